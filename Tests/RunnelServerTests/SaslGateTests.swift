import KafkaMessages
import KafkaWire
import NIOCore
import RunnelCore
import RunnelSasl
import Testing
@testable import RunnelServer

/// The SASL gate and the SASL APIs, driven through the broker's dispatcher with a connection of a
/// SASL listener (docs/decisions.md D171–D175).
@Suite struct SaslGateTests {
    let h: BrokerHarness

    init() throws {
        h = try BrokerHarness()
        // The first user comes in over the PLAINTEXT connection (D175).
        var request = AlterUserScramCredentialsRequest()
        for m in ScramMechanism.allCases {
            let salt = Array("salt-of-\(m)".utf8)
            var u = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
            u.name = "alice"
            u.mechanism = m.rawValue
            u.iterations = 4096
            u.salt = salt
            u.saltedPassword = m.saltedPassword("alice-secret", salt: salt, iterations: 4096)
            request.upsertions.append(u)
        }
        let response = try #require(try h.send(request, version: 0))
        #expect(response.results.map(\.user) == ["alice"])
        #expect(response.results.map(\.errorCode) == [0])
    }

    func saslConnection(mechanisms: [String] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], reauthMs: Int64 = 0) -> ConnectionInfo {
        var info = ConnectionInfo(id: 9, remote: "127.0.0.1:5555", listenerName: "SASL_PLAINTEXT")
        info.sasl = SaslSession(settings: SaslSettings(mechanisms: mechanisms, reauthMs: reauthMs))
        return info
    }

    /// What the broker did with `request` on `connection`: the decoded response (if any) and whether it closed.
    func exchange<R: KafkaRequest>(_ request: R, version: Int16, on connection: ConnectionInfo) throws
        -> (response: R.Response?, closeReason: String?) {
        let result = try h.dispatch(h.frame(request, version: version), connection: connection)
        switch result {
        case .close(let reason): return (nil, reason)
        case .respondThenClose(_, let reason): return (try h.decode(result, as: R.self, version: version), reason)
        default: return (try h.decode(result, as: R.self, version: version), nil)
        }
    }

    func authenticate(_ connection: ConnectionInfo, mechanism: ScramMechanism, user: String = "alice",
                      password: String = "alice-secret") throws -> (ok: Bool, lifetimeMs: Int64, closeReason: String?) {
        let hs = try exchange(SaslHandshakeRequest(mechanism: mechanism.name), version: 1, on: connection)
        #expect(hs.response?.errorCode == 0)
        var rng = SystemRandomNumberGenerator()
        var client = ScramClientExchange(mechanism: mechanism, username: user, password: password, clientNonce: scramNonce(using: &rng))
        let first = try exchange(SaslAuthenticateRequest(authBytes: client.firstMessage), version: 2, on: connection)
        guard let challenge = first.response, challenge.errorCode == 0 else { return (false, 0, first.closeReason) }
        let final = try exchange(SaslAuthenticateRequest(authBytes: try client.finalMessage(serverFirst: challenge.authBytes)),
                                 version: 2, on: connection)
        guard let done = final.response, done.errorCode == 0 else {
            #expect(final.response?.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
            return (false, 0, final.closeReason)
        }
        try client.verify(serverFinal: done.authBytes)
        return (true, done.sessionLifetimeMs, final.closeReason)
    }

    @Test func onlyApiVersionsAndSaslBeforeAuthentication() throws {
        let c = saslConnection()
        let versions = try exchange(ApiVersionsRequest(clientSoftwareName: "test", clientSoftwareVersion: "1"), version: 3, on: c)
        #expect(versions.response?.errorCode == 0)
        #expect(versions.response?.apiKeys.contains { $0.apiKey == 17 && $0.minVersion == 0 && $0.maxVersion == 1 } == true)
        let metadata = try exchange(MetadataRequest(), version: 12, on: c)
        #expect(metadata.response == nil)
        #expect(metadata.closeReason?.contains("before SASL authentication") == true)
    }

    @Test(arguments: ScramMechanism.allCases)
    func scramAuthenticatesAndSetsThePrincipal(mechanism: ScramMechanism) throws {
        let c = saslConnection()
        let outcome = try authenticate(c, mechanism: mechanism)
        #expect(outcome.ok && outcome.closeReason == nil)
        #expect(c.sasl?.principal == KafkaPrincipal(name: "alice"))
        let metadata = try exchange(MetadataRequest(), version: 12, on: c)
        #expect(metadata.response != nil && metadata.closeReason == nil)
    }

    @Test func wrongPasswordAndUnknownUserAreRefusedAndClosed() throws {
        let wrong = try authenticate(saslConnection(), mechanism: .sha512, password: "nope")
        #expect(!wrong.ok)
        #expect(wrong.closeReason?.contains("SASL authentication failed for user 'alice' with SCRAM-SHA-512") == true)
        let unknown = try authenticate(saslConnection(), mechanism: .sha256, user: "mallory")
        #expect(!unknown.ok)
        #expect(unknown.closeReason?.contains("user 'mallory'") == true)
    }

    @Test func plainChecksTheScramCredential() throws {
        for (password, accepted) in [("alice-secret", true), ("alice-secreT", false)] {
            let c = saslConnection()
            #expect(try exchange(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1, on: c).response?.errorCode == 0)
            let auth = try exchange(SaslAuthenticateRequest(authBytes: PlainMessage(username: "alice", password: password).bytes),
                                    version: 1, on: c)
            #expect(auth.response?.errorCode == (accepted ? 0 : KafkaErrorCode.saslAuthenticationFailed.rawValue))
            #expect((auth.closeReason == nil) == accepted)
            #expect((c.sasl?.principal != nil) == accepted)
        }
    }

    @Test func disabledMechanismHandshakeV0AndHandshakeFloodsClose() throws {
        let c1 = saslConnection(mechanisms: ["SCRAM-SHA-512"])
        let plain = try exchange(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1, on: c1)
        #expect(plain.response?.errorCode == KafkaErrorCode.unsupportedSaslMechanism.rawValue)
        #expect(plain.response?.mechanisms == ["SCRAM-SHA-512"])
        #expect(plain.closeReason != nil)

        let v0 = try exchange(SaslHandshakeRequest(mechanism: "PLAIN"), version: 0, on: saslConnection())
        #expect(v0.response?.errorCode == KafkaErrorCode.illegalSaslState.rawValue)
        #expect(v0.closeReason?.contains("v0") == true)

        let c2 = saslConnection()
        for _ in 0..<SaslSettings.handshakesBeforeAuthenticationMax {
            #expect(try exchange(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1, on: c2).closeReason == nil)
        }
        #expect(try exchange(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1, on: c2).closeReason != nil)

        // SaslAuthenticate without a handshake.
        let c3 = saslConnection()
        let early = try exchange(SaslAuthenticateRequest(authBytes: [0]), version: 1, on: c3)
        #expect(early.response?.errorCode == KafkaErrorCode.illegalSaslState.rawValue)
        #expect(early.closeReason != nil)
    }

    @Test func sessionsExpireAndReauthenticateOnTheSameConnection() throws {
        let c = saslConnection(reauthMs: 60_000)
        let outcome = try authenticate(c, mechanism: .sha256)
        #expect(outcome.ok && outcome.lifetimeMs == 60_000)
        #expect(try exchange(MetadataRequest(), version: 12, on: c).closeReason == nil)
        // The session's end, moved into the past (no sleeping in tests).
        try h.onLoop { _ in c.sasl!.expiresAt = .now() - .seconds(1) }
        #expect(try exchange(MetadataRequest(), version: 12, on: c).closeReason?.contains("expired") == true)
        // A re-authentication is still allowed, and renews the session.
        let again = try authenticate(c, mechanism: .sha512)
        #expect(again.ok && again.lifetimeMs == 60_000)
        #expect(try exchange(MetadataRequest(), version: 12, on: c).closeReason == nil)
        // Re-authenticating as someone else is refused.
        let bob = Array("bob-salt".utf8)
        var request = AlterUserScramCredentialsRequest()
        var u = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
        (u.name, u.mechanism, u.iterations, u.salt) = ("bob", 1, 4096, bob)
        u.saltedPassword = ScramMechanism.sha256.saltedPassword("bob-pw", salt: bob, iterations: 4096)
        request.upsertions = [u]
        #expect(try h.send(request, version: 0)?.results.first?.errorCode == 0)
        let other = try authenticate(c, mechanism: .sha256, user: "bob", password: "bob-pw")
        #expect(!other.ok)
        #expect(other.closeReason?.contains("different") == true || other.closeReason?.contains("re-authentication as") == true)
    }

    @Test func reauthenticationIsRefusedWhenSessionsDoNotExpire() throws {
        let c = saslConnection(reauthMs: 0)
        let outcome = try authenticate(c, mechanism: .sha256)
        #expect(outcome.ok && outcome.lifetimeMs == 0)
        let hs = try exchange(SaslHandshakeRequest(mechanism: "SCRAM-SHA-256"), version: 1, on: c)
        #expect(hs.response?.errorCode == KafkaErrorCode.illegalSaslState.rawValue)
    }

    @Test func plaintextConnectionsGetIllegalSaslState() throws {
        let hs = try h.send(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1)
        #expect(hs?.errorCode == KafkaErrorCode.illegalSaslState.rawValue)
    }

    @Test func credentialsAreDescribedAndDeleted() throws {
        var describe = DescribeUserScramCredentialsRequest()
        describe.users = nil
        let all = try #require(try h.send(describe, version: 0))
        #expect(all.results.map(\.user) == ["alice"])
        #expect(all.results.first?.credentialInfos.map(\.mechanism) == [1, 2])
        #expect(all.results.first?.credentialInfos.map(\.iterations) == [4096, 4096])

        var bad = AlterUserScramCredentialsRequest()
        var weak = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
        (weak.name, weak.mechanism, weak.iterations, weak.salt, weak.saltedPassword) = ("carol", 1, 1000, [1], [2])
        var unknown = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
        (unknown.name, unknown.mechanism) = ("dave", 2)
        bad.upsertions = [weak]
        bad.deletions = [unknown]
        let refused = try #require(try h.send(bad, version: 0))
        #expect(Dictionary(uniqueKeysWithValues: refused.results.map { ($0.user, $0.errorCode) })
            == ["carol": KafkaErrorCode.unacceptableCredential.rawValue, "dave": KafkaErrorCode.resourceNotFound.rawValue])

        var delete = AlterUserScramCredentialsRequest()
        var d = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
        (d.name, d.mechanism) = ("alice", 1)
        delete.deletions = [d]
        #expect(try h.send(delete, version: 0)?.results.first?.errorCode == 0)
        describe.users = [.init(name: "alice"), .init(name: "zed")]
        let some = try #require(try h.send(describe, version: 0))
        #expect(some.results.map(\.user) == ["alice", "zed"])
        #expect(some.results.first?.credentialInfos.map(\.mechanism) == [2])
        #expect(some.results.last?.errorCode == KafkaErrorCode.resourceNotFound.rawValue)
        // SCRAM-SHA-256 is gone for alice: authenticating with it now fails.
        #expect(!(try authenticate(saslConnection(), mechanism: .sha256).ok))
    }
}
