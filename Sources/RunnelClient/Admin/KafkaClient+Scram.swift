import KafkaMessages
import RunnelCore
import RunnelSasl

/// One user's SCRAM credentials as DescribeUserScramCredentials reports them.
public struct ScramUserDescription: Sendable, Equatable {
    public var user: String
    /// Mechanism name ("SCRAM-SHA-256") and iteration count, by mechanism code order.
    public var credentials: [(mechanism: String, iterations: Int32)]

    public static func == (a: Self, b: Self) -> Bool {
        a.user == b.user && a.credentials.map(\.mechanism) == b.credentials.map(\.mechanism)
            && a.credentials.map(\.iterations) == b.credentials.map(\.iterations)
    }
}

extension KafkaClient {
    /// Sets `user`'s SCRAM credential for `mechanism` (AlterUserScramCredentials). The password is
    /// salted and iterated here; only the salted password travels, as with Kafka's admin client.
    public func upsertScramCredential(user: String, password: String, mechanism: String,
                                      iterations: Int32 = ScramMechanism.iterationsMin) async throws {
        guard let m = ScramMechanism(name: mechanism) else {
            throw KafkaClientError.invalidArgument("SCRAM mechanism '\(mechanism)' is not SCRAM-SHA-256 or SCRAM-SHA-512")
        }
        var rng = SystemRandomNumberGenerator()
        let salt = scramSalt(using: &rng)
        var upsert = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
        upsert.name = user
        upsert.mechanism = m.rawValue
        upsert.iterations = iterations
        upsert.salt = salt
        upsert.saltedPassword = m.saltedPassword(password, salt: salt, iterations: Int(max(1, iterations)))
        try await alterScram(upsertions: [upsert], deletions: [], context: "set \(m) credential of user '\(user)'")
    }

    /// Removes `user`'s SCRAM credential for each of `mechanisms`.
    public func deleteScramCredentials(user: String, mechanisms: [String]) async throws {
        var deletions: [AlterUserScramCredentialsRequest.ScramCredentialDeletion] = []
        for name in mechanisms {
            guard let m = ScramMechanism(name: name) else {
                throw KafkaClientError.invalidArgument("SCRAM mechanism '\(name)' is not SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            var d = AlterUserScramCredentialsRequest.ScramCredentialDeletion()
            d.name = user
            d.mechanism = m.rawValue
            deletions.append(d)
        }
        try await alterScram(upsertions: [], deletions: deletions, context: "delete SCRAM credentials of user '\(user)'")
    }

    private func alterScram(upsertions: [AlterUserScramCredentialsRequest.ScramCredentialUpsertion],
                            deletions: [AlterUserScramCredentialsRequest.ScramCredentialDeletion], context: String) async throws {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        try await withRetries {
            let (response, _) = try await send(.controller) { _ in
                var request = AlterUserScramCredentialsRequest()
                request.upsertions = upsertions
                request.deletions = deletions
                return request
            }
            for result in response.results {
                let code = KafkaErrorCode(result.errorCode)
                guard code == .none else { throw KafkaClientError.kafka(code: code, message: result.errorMessage, context: context) }
            }
        }
    }

    /// Users with SCRAM credentials (all of them when `users` is empty).
    public func describeScramUsers(_ users: [String] = []) async throws -> [ScramUserDescription] {
        try await withRetries {
            let (response, _) = try await send(.any) { _ in
                var request = DescribeUserScramCredentialsRequest()
                request.users = users.isEmpty ? nil : users.map { DescribeUserScramCredentialsRequest.UserName(name: $0) }
                return request
            }
            let code = KafkaErrorCode(response.errorCode)
            guard code == .none else {
                throw KafkaClientError.kafka(code: code, message: response.errorMessage, context: "describe SCRAM users")
            }
            return try response.results.map { result in
                let code = KafkaErrorCode(result.errorCode)
                guard code == .none else {
                    throw KafkaClientError.kafka(code: code, message: result.errorMessage, context: "describe SCRAM user '\(result.user)'")
                }
                return ScramUserDescription(user: result.user, credentials: result.credentialInfos.map {
                    (ScramMechanism(rawValue: $0.mechanism)?.name ?? "UNKNOWN(\($0.mechanism))", $0.iterations)
                })
            }
        }
    }
}
