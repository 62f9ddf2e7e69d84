import ArgumentParser
import Foundation
import RunnelClient

/// `--sasl-mechanism --sasl-username --sasl-password` for brokers whose listener is
/// SASL_PLAINTEXT (docs/decisions.md D176). The password may also come from
/// $RUNNEL_SASL_PASSWORD, which keeps it out of `ps` and shell history.
struct SaslOptions: ParsableArguments {
    @Option(name: .customLong("sasl-mechanism"), help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (needs --sasl-username).")
    var mechanism: String?

    @Option(name: .customLong("sasl-username"), help: "SASL user name.")
    var username: String?

    @Option(name: .customLong("sasl-password"), help: "SASL password (default: $RUNNEL_SASL_PASSWORD).")
    var password: String?

    func config() throws -> SaslClientConfig? {
        guard mechanism != nil || username != nil || password != nil else { return nil }
        guard let username, !username.isEmpty else { throw ValidationError("--sasl-username is required with SASL options") }
        let password = self.password ?? ProcessInfo.processInfo.environment["RUNNEL_SASL_PASSWORD"]
        guard let password, !password.isEmpty else {
            throw ValidationError("--sasl-password (or $RUNNEL_SASL_PASSWORD) is required with SASL options")
        }
        return try SaslClientConfig(mechanism: mechanism ?? "SCRAM-SHA-512", username: username, password: password)
    }
}
