import Foundation
import Testing
@testable import RunnelSasl

private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
private func utf8(_ s: String) -> [UInt8] { Array(s.utf8) }

/// RFC 7677 §3's SCRAM-SHA-256 exchange: user "user", password "pencil".
private enum RFC7677 {
    static let clientNonce = "rOprNGfwEbeRWgbNEkqO"
    static let serverNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    static let clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let clientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    static let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
    static var credential: ScramCredential { ScramCredential(mechanism: .sha256, password: "pencil", salt: salt, iterations: 4096) }
}

@Suite struct ScramVectorTests {
    // PBKDF2 vectors (the published PBKDF2-HMAC-SHA256/SHA512 ones for "password"/"salt").
    @Test func hiMatchesPBKDF2() {
        #expect(hex(ScramMechanism.sha256.hi(password: utf8("password"), salt: utf8("salt"), iterations: 4096))
            == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(hex(ScramMechanism.sha512.hi(password: utf8("password"), salt: utf8("salt"), iterations: 1))
            == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")
        #expect(hex(ScramMechanism.sha512.hi(password: utf8("password"), salt: utf8("salt"), iterations: 4096))
            == "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5")
    }

    @Test func clientProducesRFC7677Messages() throws {
        var client = ScramClientExchange(mechanism: .sha256, username: "user", password: "pencil", clientNonce: RFC7677.clientNonce)
        #expect(String(decoding: client.firstMessage, as: UTF8.self) == RFC7677.clientFirst)
        let final = try client.finalMessage(serverFirst: utf8(RFC7677.serverFirst))
        #expect(String(decoding: final, as: UTF8.self) == RFC7677.clientFinal)
        try client.verify(serverFinal: utf8(RFC7677.serverFinal))
        #expect(throws: SaslError.self) { try client.verify(serverFinal: utf8("v=AAAA")) }
    }

    @Test func serverAcceptsRFC7677Exchange() throws {
        var server = ScramServerExchange(mechanism: .sha256, serverNonce: RFC7677.serverNonce)
        let lookup: (String) -> ScramCredential? = { $0 == "user" ? RFC7677.credential : nil }
        #expect(try server.receive(utf8(RFC7677.clientFirst), credential: lookup) == .challenge(utf8(RFC7677.serverFirst)))
        #expect(try server.receive(utf8(RFC7677.clientFinal), credential: lookup)
            == .success(username: "user", serverFinal: utf8(RFC7677.serverFinal)))
        // Nothing more after success.
        #expect(throws: SaslError.self) { try server.receive(utf8(RFC7677.clientFinal), credential: lookup) }
    }

    @Test func serverRefusesWrongProofNonceAndBinding() throws {
        let lookup: (String) -> ScramCredential? = { $0 == "user" ? RFC7677.credential : nil }
        func afterFirst() throws -> ScramServerExchange {
            var s = ScramServerExchange(mechanism: .sha256, serverNonce: RFC7677.serverNonce)
            _ = try s.receive(utf8(RFC7677.clientFirst), credential: lookup)
            return s
        }
        // A proof made with another password.
        var wrong = ScramClientExchange(mechanism: .sha256, username: "user", password: "pencil2", clientNonce: RFC7677.clientNonce)
        _ = wrong.firstMessage
        let wrongFinal = try wrong.finalMessage(serverFirst: utf8(RFC7677.serverFirst))
        var s1 = try afterFirst()
        #expect(throws: SaslError(s1.invalidCredentials)) { try s1.receive(wrongFinal, credential: lookup) }
        // The right proof under a changed nonce.
        var s2 = try afterFirst()
        let badNonce = RFC7677.clientFinal.replacingOccurrences(of: "k0,p=", with: "k1,p=")
        #expect(throws: SaslError("SCRAM nonce does not match")) { try s2.receive(utf8(badNonce), credential: lookup) }
        // Channel binding other than the gs2 header "n,,".
        var s3 = try afterFirst()
        let badBinding = RFC7677.clientFinal.replacingOccurrences(of: "c=biws", with: "c=eSws")
        #expect(throws: SaslError.self) { try s3.receive(utf8(badBinding), credential: lookup) }
        // Unknown user: the same message as a wrong password.
        var s4 = ScramServerExchange(mechanism: .sha256, serverNonce: RFC7677.serverNonce)
        #expect(throws: SaslError(s4.invalidCredentials)) {
            try s4.receive(utf8("n,,n=nobody,r=abc"), credential: lookup)
        }
    }

    @Test(arguments: ScramMechanism.allCases)
    func clientAndServerAgree(mechanism: ScramMechanism) throws {
        var rng = SystemRandomNumberGenerator()
        let credential = ScramCredential(mechanism: mechanism, password: "s3cret,=é", salt: scramSalt(using: &rng), iterations: 4096)
        let name = "al,i=ce"
        var server = ScramServerExchange(mechanism: mechanism, serverNonce: scramNonce(using: &rng))
        var client = ScramClientExchange(mechanism: mechanism, username: name, password: "s3cret,=é", clientNonce: scramNonce(using: &rng))
        let lookup: (String) -> ScramCredential? = { $0 == name ? credential : nil }
        guard case .challenge(let first) = try server.receive(client.firstMessage, credential: lookup) else {
            Issue.record("no challenge"); return
        }
        let final = try client.finalMessage(serverFirst: first)
        guard case .success(let user, let serverFinal) = try server.receive(final, credential: lookup) else {
            Issue.record("no success"); return
        }
        #expect(user == name)
        try client.verify(serverFinal: serverFinal)
        #expect(credential.matches(password: "s3cret,=é", mechanism: mechanism))
        #expect(!credential.matches(password: "s3cret", mechanism: mechanism))
    }

    @Test func clientRefusesWeakOrForeignServerFirst() throws {
        var client = ScramClientExchange(mechanism: .sha256, username: "user", password: "pencil", clientNonce: RFC7677.clientNonce)
        #expect(throws: SaslError.self) {
            try client.finalMessage(serverFirst: utf8("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1024"))
        }
        #expect(throws: SaslError.self) {
            try client.finalMessage(serverFirst: utf8("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
        }
    }
}

@Suite struct SaslParserTests {
    @Test func clientFirstGrammar() throws {
        let m = try ScramClientFirst(parsing: utf8("n,,n=a=2Cb=3Dc,r=xyz,tokenauth=true"))
        #expect(m.username == "a,b=c")
        #expect(m.extensions == ["tokenauth=true"])
        #expect(try ScramClientFirst(parsing: utf8("n,a=bob,n=bob,r=x")).authzid == "bob")
        for bad in ["y,,n=u,r=x", "p=tls-unique,,n=u,r=x", "n,,r=x", "n,,n=u", "n,,n=,r=x", "n,,n=u=2,r=x",
                    "n,,m=ext,n=u,r=x", "n,a=eve,n=u,r=x", "n,,n=u,r=a,b", "", "n,", "n,,n=u,r="] {
            #expect(throws: SaslError.self, "\(bad)") { try ScramClientFirst(parsing: utf8(bad)) }
        }
        #expect(throws: SaslError.self) { try ScramClientFirst(parsing: [0x6E, 0x2C, 0x2C, 0xFF]) }
    }

    @Test func plainGrammar() throws {
        #expect(try PlainMessage(parsing: utf8("\0alice\0pw")) == PlainMessage(username: "alice", password: "pw"))
        #expect(try PlainMessage(parsing: utf8("alice\0alice\0pw")).authzid == "alice")
        for bad in ["alice\0pw", "\0\0pw", "\0alice\0", "bob\0alice\0pw", "\0a\0b\0c", ""] {
            #expect(throws: SaslError.self, "\(bad)") { try PlainMessage(parsing: utf8(bad)) }
        }
    }

    @Test func finalMessagesGrammar() throws {
        #expect(throws: SaslError.self) { try ScramClientFinal.parse(utf8("c=biws,r=x")) }
        #expect(throws: SaslError.self) { try ScramClientFinal.parse(utf8("r=x,c=biws,p=AAAA")) }
        #expect(throws: SaslError.self) { try ScramClientFinal.parse(utf8("c=biws,r=x,p=!!")) }
        #expect(try ScramServerFinal(parsing: utf8("e=invalid-proof")) == .error("invalid-proof"))
        #expect(throws: SaslError.self) { try ScramServerFirst(parsing: utf8("r=x,s=,i=4096")) }
        #expect(throws: SaslError.self) { try ScramServerFirst(parsing: utf8("r=x,s=AAAA,i=-1")) }
    }
}
