import KafkaMessages
import NIOCore
import RunnelCore
import RunnelSasl

/// What a client needs to authenticate on a SASL listener (Kafka's `sasl.mechanism`,
/// `sasl.username`/`sasl.password` as the JAAS line of PlainLoginModule/ScramLoginModule carries them).
public struct SaslClientConfig: Sendable, Equatable {
    public var mechanism: String
    public var username: String
    public var password: String

    public static let mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

    /// Throws `invalidArgument` for a mechanism Runnel does not speak.
    public init(mechanism: String, username: String, password: String) throws {
        let upper = mechanism.uppercased()
        guard Self.mechanisms.contains(upper) else {
            throw KafkaClientError.invalidArgument("SASL mechanism '\(mechanism)' is not one of \(Self.mechanisms.joined(separator: ", "))")
        }
        self.mechanism = upper
        self.username = username
        self.password = password
    }
}

extension BrokerConnection {
    /// SaslHandshake v1, then SaslAuthenticate rounds for `sasl.mechanism`. A refusal is a
    /// `KafkaClientError.kafka` with the broker's code and message (SASL_AUTHENTICATION_FAILED,
    /// UNSUPPORTED_SASL_MECHANISM); a server that fails SCRAM's signature check is refused here.
    func authenticate(_ sasl: SaslClientConfig) -> EventLoopFuture<Void> {
        let context = "SASL \(sasl.mechanism) authentication of '\(sasl.username)' to \(address)"
        let handshake = SaslHandshakeRequest(mechanism: sasl.mechanism)
        return send(handshake).flatMapThrowing { response in
            guard response.errorCode == 0 else {
                let offered = response.mechanisms.joined(separator: ", ")
                throw KafkaClientError.kafka(code: KafkaErrorCode(response.errorCode),
                                             message: "the broker offers \(offered.isEmpty ? "no mechanism" : offered)", context: context)
            }
        }.flatMap {
            func round(_ bytes: [UInt8]) -> EventLoopFuture<[UInt8]> {
                self.send(SaslAuthenticateRequest(authBytes: bytes)).flatMapThrowing { response in
                    guard response.errorCode == 0 else {
                        throw KafkaClientError.kafka(code: KafkaErrorCode(response.errorCode), message: response.errorMessage,
                                                     context: context)
                    }
                    return response.authBytes
                }
            }
            if sasl.mechanism == "PLAIN" {
                return round(PlainMessage(username: sasl.username, password: sasl.password).bytes).map { _ in }
            }
            let mechanism = ScramMechanism(name: sasl.mechanism)!
            var rng = SystemRandomNumberGenerator()
            var exchange = ScramClientExchange(mechanism: mechanism, username: sasl.username, password: sasl.password,
                                               clientNonce: scramNonce(using: &rng))
            return round(exchange.firstMessage).flatMapThrowing { serverFirst in
                do { return try exchange.finalMessage(serverFirst: serverFirst) } catch {
                    throw KafkaClientError.protocolViolation(address: self.address.description, detail: "\(context): \(error)")
                }
            }.flatMap { final in round(final) }.flatMapThrowing { serverFinal in
                do { try exchange.verify(serverFinal: serverFinal) } catch {
                    throw KafkaClientError.protocolViolation(address: self.address.description, detail: "\(context): \(error)")
                }
            }
        }
    }
}
