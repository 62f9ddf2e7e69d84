import ClusterMetadata
import KafkaMessages
import KafkaWire
import NIOCore
import NIOPosix
import RunnelCore
import RunnelSasl

/// The SASL settings of the broker's SASL listeners (docs/decisions.md D171).
struct SaslSettings {
    /// `sasl.enabled.mechanisms`, in the configured order.
    let mechanisms: [String]
    /// `connections.max.reauth.ms` (0: sessions never expire, re-authentication is refused).
    let reauthMs: Int64

    /// SaslHandshake requests one connection may send before it authenticates: a client that
    /// retries another mechanism gets a second try, not an endless loop (D174).
    static let handshakesBeforeAuthenticationMax = 3

    init(config: BrokerConfig) {
        mechanisms = config.values["sasl.enabled.mechanisms"]!.splitList()
        reauthMs = Int64(config.values["connections.max.reauth.ms"]!)!
    }

    init(mechanisms: [String], reauthMs: Int64) {
        self.mechanisms = mechanisms
        self.reauthMs = reauthMs
    }
}

/// One connection's SASL state on a SASL listener. Created by `KafkaServer` for each accepted
/// connection of a listener whose security protocol is SASL_PLAINTEXT or SASL_SSL, and touched
/// only by the router, on the broker's owner loop (requests of one connection are routed in order).
final class SaslSession {
    enum State {
        /// Waiting for SaslHandshake.
        case initial
        /// SaslHandshake chose `mechanism`; the next SaslAuthenticate starts it.
        case handshook(mechanism: String)
        /// A SCRAM exchange is half-way (server-first-message sent).
        case scram(ScramServerExchange)
        /// Authenticated, not re-authenticating.
        case authenticated
    }

    let settings: SaslSettings
    var state: State = .initial
    /// Set by the first successful authentication; a re-authentication must keep it.
    var principal: KafkaPrincipal?
    /// When the session ends (`connections.max.reauth.ms` after the last authentication).
    var expiresAt: NIODeadline?
    var handshakes = 0

    init(settings: SaslSettings) {
        self.settings = settings
    }

    var isAuthenticated: Bool { principal != nil }
    var isReauthenticating: Bool {
        if case .authenticated = state { return false }
        return principal != nil
    }

    /// Whether a request of `apiKey` may go on to its handler (nil), or the reason to close the
    /// connection. SaslHandshake and SaslAuthenticate always pass: their handlers check the state.
    func admit(_ apiKey: ApiKey, now: NIODeadline) -> String? {
        if apiKey == .saslHandshake || apiKey == .saslAuthenticate { return nil }
        guard let principal else {
            if apiKey == .apiVersions { return nil }
            return "\(apiKey) before SASL authentication (only ApiVersions, SaslHandshake and SaslAuthenticate are allowed until then)"
        }
        if isReauthenticating {
            return "\(apiKey) in the middle of re-authenticating \(principal)"
        }
        if let expiresAt, now > expiresAt {
            return "SASL session of \(principal) expired (connections.max.reauth.ms \(settings.reauthMs)) and \(apiKey) is not a re-authentication"
        }
        return nil
    }
}

extension RequestRouter {
    /// The SASL gate: checks a request of a SASL connection against its state and answers the
    /// SASL requests themselves. Returns true when it answered (or closed); the caller routes
    /// the request otherwise, with `connection.principal` set to the authenticated user.
    static func saslGate(prefix: RequestHeader.Prefix, apiKey: ApiKey, frame: ByteBuffer, connection: inout ConnectionInfo,
                         broker: Broker, done: @escaping (DispatchResult) -> Void) -> Bool {
        guard apiKey == .saslHandshake || apiKey == .saslAuthenticate || connection.sasl != nil else { return false }
        var body = frame
        let header: RequestHeader
        if apiKey == .saslHandshake || apiKey == .saslAuthenticate {
            guard ApiSupport.supports(apiKey: prefix.apiKey, version: prefix.apiVersion) else {
                done(.close(reason: "unsupported version \(prefix.apiVersion) of \(apiKey)"))
                return true
            }
            do {
                header = try RequestHeader(from: &body, headerVersion: apiKey.requestHeaderVersion(apiVersion: prefix.apiVersion))
            } catch {
                done(.close(reason: "malformed \(apiKey) v\(prefix.apiVersion) request header: \(error)"))
                return true
            }
        } else {
            let session = connection.sasl!
            if let reason = session.admit(apiKey, now: .now()) {
                done(.close(reason: reason))
                return true
            }
            if let principal = session.principal { connection.principal = principal }
            return false
        }
        let context = RequestContext(header: header, connection: connection)
        let allocator = broker.allocator
        func answer<R: KafkaResponse>(_ response: R, closing reason: String? = nil) {
            let bytes = encode(response, context: context, allocator: allocator)
            done(reason.map { .respondThenClose(bytes, reason: $0) } ?? .respond(bytes))
        }
        do {
            if apiKey == .saslHandshake {
                let request = try SaslHandshakeRequest(from: &body, version: context.version)
                let (response, close) = saslHandshake(request, version: context.version, session: connection.sasl,
                                                      remote: connection.remote)
                answer(response, closing: close)
            } else {
                let request = try SaslAuthenticateRequest(from: &body, version: context.version)
                let session = connection.sasl, remote = connection.remote, image = broker.image
                if let session, case .handshook("PLAIN") = session.state,
                   let message = try? PlainMessage(parsing: request.authBytes) {
                    // PLAIN derives the salted password (thousands of HMAC rounds): on the thread
                    // pool, so that a flood of PLAIN attempts cannot stall the owner loop (D103).
                    let credentials = ScramMechanism.allCases.compactMap { m in
                        image.scramCredential(user: message.username, mechanism: m.rawValue).map { (m, $0) }
                    }
                    broker.threadPool.runIfActive(eventLoop: broker.loop) {
                        credentials.contains { m, credential in credential.matches(password: message.password, mechanism: m) }
                    }.whenComplete { result in
                        let verdict = (try? result.get()) ?? false
                        let (response, close) = saslAuthenticate(request, version: context.version, session: session,
                                                                 remote: remote, image: image, plainVerdict: verdict)
                        answer(response, closing: close)
                    }
                    return true
                }
                let (response, close) = saslAuthenticate(request, version: context.version, session: session,
                                                         remote: remote, image: image)
                answer(response, closing: close)
            }
        } catch {
            done(.close(reason: "malformed \(apiKey) v\(context.version) request: \(error)"))
        }
        return true
    }

    /// SaslHandshake (key 17), versions 0-1 (docs/decisions.md D174 for v0).
    static func saslHandshake(_ request: SaslHandshakeRequest, version: Int16, session: SaslSession?,
                              remote: String) -> (SaslHandshakeResponse, close: String?) {
        var response = SaslHandshakeResponse()
        guard let session else {
            // A listener without SASL: Kafka answers ILLEGAL_SASL_STATE and keeps the connection.
            response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            return (response, nil)
        }
        response.mechanisms = session.settings.mechanisms
        if version == 0 {
            response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            return (response, "SaslHandshake v0 (SASL tokens without SaslAuthenticate framing) is not supported; clients must use v1")
        }
        if session.isAuthenticated {
            // KIP-368: a handshake on an authenticated connection starts a re-authentication.
            guard session.settings.reauthMs > 0, case .authenticated = session.state else {
                response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
                let why = session.settings.reauthMs > 0 ? "a re-authentication is already under way" : "re-authentication is off (connections.max.reauth.ms=0)"
                return (response, "SaslHandshake from \(session.principal!) refused: \(why)")
            }
        } else {
            session.handshakes += 1
            guard session.handshakes <= SaslSettings.handshakesBeforeAuthenticationMax else {
                response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
                return (response, "\(session.handshakes) SaslHandshake requests without authenticating (at most \(SaslSettings.handshakesBeforeAuthenticationMax))")
            }
        }
        guard session.settings.mechanisms.contains(request.mechanism) else {
            response.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
            return (response, "SASL mechanism '\(request.mechanism.prefix(64))' is not enabled (sasl.enabled.mechanisms=\(session.settings.mechanisms.joined(separator: ",")))")
        }
        session.state = .handshook(mechanism: request.mechanism)
        return (response, nil)
    }

    /// SaslAuthenticate (key 36), versions 0-2.
    /// `plainVerdict`: whether a PLAIN request's password matched its user's SCRAM credential,
    /// checked by the caller off the owner loop (nil for other mechanisms).
    static func saslAuthenticate(_ request: SaslAuthenticateRequest, version: Int16, session: SaslSession?,
                                 remote: String, image: MetadataImage,
                                 plainVerdict: Bool? = nil) -> (SaslAuthenticateResponse, close: String?) {
        var response = SaslAuthenticateResponse()
        response.errorMessage = nil
        guard let session else {
            response.errorCode = KafkaErrorCode.illegalSaslState.rawValue
            response.errorMessage = "SaslAuthenticate on a listener without SASL"
            return (response, nil)
        }
        let lookup = { (mechanism: ScramMechanism) in
            { (user: String) -> ScramCredential? in
                image.scramCredential(user: user, mechanism: mechanism.rawValue)
            }
        }
        func fail(_ code: KafkaErrorCode, _ message: String, mechanism: String, user: String?) -> (SaslAuthenticateResponse, close: String?) {
            session.state = .initial
            response.errorCode = code.rawValue
            response.errorMessage = message
            let who = user.map { "user '\($0.prefix(64))'" } ?? "unnamed user"
            return (response, "SASL authentication failed for \(who) with \(mechanism): \(message)")
        }
        func succeed(user: String, mechanism: String, reply: [UInt8]) -> (SaslAuthenticateResponse, close: String?) {
            let principal = KafkaPrincipal(name: user)
            if let previous = session.principal, previous != principal {
                return fail(.saslAuthenticationFailed, "re-authentication as \(principal) on a connection of \(previous)",
                            mechanism: mechanism, user: user)
            }
            session.principal = principal
            session.state = .authenticated
            session.handshakes = 0
            if session.settings.reauthMs > 0 {
                session.expiresAt = .now() + .milliseconds(session.settings.reauthMs)
                response.sessionLifetimeMs = session.settings.reauthMs
            }
            response.authBytes = reply
            return (response, nil)
        }
        switch session.state {
        case .initial, .authenticated:
            return fail(.illegalSaslState, "SaslAuthenticate without a SaslHandshake first", mechanism: "no mechanism", user: nil)
        case .handshook(let mechanism):
            if mechanism == "PLAIN" {
                let message: PlainMessage
                do { message = try PlainMessage(parsing: request.authBytes) } catch {
                    return fail(.saslAuthenticationFailed, error.message, mechanism: mechanism, user: nil)
                }
                // PLAIN checks the password against the user's SCRAM credential (D172).
                // The gate checked the password off the owner loop (`plainVerdict`).
                guard plainVerdict == true else {
                    return fail(.saslAuthenticationFailed, "Authentication failed: invalid user name or password",
                                mechanism: mechanism, user: message.username)
                }
                return succeed(user: message.username, mechanism: mechanism, reply: [])
            }
            guard let scram = ScramMechanism(name: mechanism) else {
                return fail(.illegalSaslState, "mechanism \(mechanism) has no implementation", mechanism: mechanism, user: nil)
            }
            var rng = SystemRandomNumberGenerator()
            var exchange = ScramServerExchange(mechanism: scram, serverNonce: scramNonce(using: &rng))
            do {
                switch try exchange.receive(request.authBytes, credential: lookup(scram)) {
                case .challenge(let bytes):
                    session.state = .scram(exchange)
                    response.authBytes = bytes
                    return (response, nil)
                case .success:
                    return fail(.saslAuthenticationFailed, "SCRAM exchange ended early", mechanism: mechanism, user: nil)
                }
            } catch {
                return fail(.saslAuthenticationFailed, error.message, mechanism: mechanism, user: exchange.username)
            }
        case .scram(var exchange):
            let mechanism = exchange.mechanism.name
            do {
                switch try exchange.receive(request.authBytes, credential: lookup(exchange.mechanism)) {
                case .success(let user, let serverFinal):
                    return succeed(user: user, mechanism: mechanism, reply: serverFinal)
                case .challenge:
                    return fail(.saslAuthenticationFailed, "unexpected SCRAM state", mechanism: mechanism, user: nil)
                }
            } catch {
                return fail(.saslAuthenticationFailed, error.message, mechanism: mechanism, user: exchange.username)
            }
        }
    }
}
