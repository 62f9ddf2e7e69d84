/// Who a connection acts as: Kafka's `KafkaPrincipal`, a type and a name ("User:alice"). A
/// connection starts as `User:ANONYMOUS`, as on a Kafka PLAINTEXT listener; SASL authentication
/// or a client certificate (mTLS) replaces it for the rest of the connection.
struct KafkaPrincipal: Hashable, Sendable, CustomStringConvertible {
    let type: String
    let name: String

    init(type: String = "User", name: String) {
        self.type = type
        self.name = name
    }

    static let anonymous = KafkaPrincipal(name: "ANONYMOUS")

    var description: String { "\(type):\(name)" }
}
