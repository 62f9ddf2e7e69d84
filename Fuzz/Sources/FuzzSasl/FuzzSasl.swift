import FuzzSupport
import RunnelSasl

/// The SASL messages a client sends before it is authenticated (docs/decisions.md D177): PLAIN's
/// "authzid NUL user NUL password" and SCRAM's client-first and client-final messages, parsed as
/// the broker parses them, plus the messages a client parses from a broker, and a whole server
/// exchange driven by fuzzed client messages.
///
/// Input: a selector byte, then the message bytes.
/// - 0: PLAIN; an accepted message re-encodes and parses to itself.
/// - 1: SCRAM client-first; an accepted one re-encodes (gs2 header + bare) and parses to itself.
/// - 2: SCRAM client-final; an accepted one has a proof and its text without proof is a prefix.
/// - 3: server-first and server-final (what RunnelClient parses).
/// - 4: a SCRAM-SHA-256 server exchange: a uint16-length client-first, then the client-final, against
///   a fixed credential for user "u"; only a correct proof may succeed, and it never does here
///   without the password (the check is that nothing traps).
@main
enum FuzzSasl {
    static let credential = ScramCredential(mechanism: .sha256, password: "pencil", salt: Array("salt".utf8), iterations: 4096)

    static func main() {
        FuzzMain.run("FuzzSasl", seeds: seeds) { raw in
            var input = FuzzInput(raw)
            let selector = input.byte() % 5
            switch selector {
            case 0:
                let bytes = Array(input.rest())
                if let m = try? PlainMessage(parsing: bytes) {
                    precondition((try? PlainMessage(parsing: m.bytes)) == m, "PLAIN message does not round-trip")
                }
            case 1:
                if let m = try? ScramClientFirst(parsing: Array(input.rest())) {
                    let again = try? ScramClientFirst(parsing: Array((m.gs2Header + m.bare).utf8))
                    precondition(again == m, "client-first message does not round-trip")
                }
            case 2:
                let text = Array(input.rest())
                if let (m, withoutProof) = try? ScramClientFinal.parse(text) {
                    precondition(!m.proof.isEmpty)
                    precondition(text.starts(with: Array(withoutProof.utf8)))
                }
            case 3:
                let bytes = Array(input.rest())
                _ = try? ScramServerFirst(parsing: bytes)
                _ = try? ScramServerFinal(parsing: bytes)
            default:
                let first = Array(input.part())
                let final = Array(input.rest())
                var server = ScramServerExchange(mechanism: .sha256, serverNonce: "0123456789abcdefghij")
                let lookup: (String) -> ScramCredential? = { $0 == "u" ? credential : nil }
                guard case .challenge = try? server.receive(first, credential: lookup) else { return }
                if case .success = try? server.receive(final, credential: lookup) {
                    preconditionFailure("a fuzzed client-final message authenticated without the password")
                }
            }
        }
    }

    /// Seeds from the production encoders: each selector with a valid message.
    static func seeds() -> [(name: String, bytes: [UInt8])] {
        var client = ScramClientExchange(mechanism: .sha256, username: "u", password: "wrong", clientNonce: "fyko+d2lbbFgONRv9qkxdawL")
        let first = client.firstMessage
        let serverFirst = Array("r=fyko+d2lbbFgONRv9qkxdawL0123456789abcdefghij,s=\(base64(Array("salt".utf8))),i=4096".utf8)
        let final = (try? client.finalMessage(serverFirst: serverFirst)) ?? []
        let length = [UInt8(first.count >> 8), UInt8(first.count & 0xFF)]
        return [
            ("plain", [0] + PlainMessage(username: "alice", password: "secret").bytes),
            ("plain-authzid", [0] + PlainMessage(username: "alice", password: "secret", authzid: "alice").bytes),
            ("client-first", [1] + first),
            ("client-first-ext", [1] + Array("n,a=u,n=u,r=abc,tokenauth=true".utf8)),
            ("client-final", [2] + final),
            ("server-first", [3] + serverFirst),
            ("server-final", [3] + ScramServerFinal.verifier([1, 2, 3]).bytes),
            ("exchange", [4] + length + first + final),
        ]
    }
}
