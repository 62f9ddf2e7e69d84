import Foundation
import RunnelTesting
import Testing

/// `runnel acl add|list|delete` against a broker with ACLs on (anonymous PLAINTEXT clients, so
/// `allow.everyone.if.no.acl.found=true` keeps the rest open).
@Suite(.enabled(if: RunnelBinary.exists, "needs the runnel binary (RUNNEL_BIN or .build/debug/runnel)"))
struct AclCLITests {
    static let aclsOn = ["authorizer.class.name=runnel", "allow.everyone.if.no.acl.found=true"]

    @Test func addListDeleteAndWhatTheyDo() async throws {
        try await withBroker(overrides: Self.aclsOn) { broker in
            let b = ["-b", broker.bootstrap]
            let secret = uniqueTopic("secret")
            #expect(try runCLI(["topic", "create", secret] + b).status == 0)
            let add = try runCLI(["acl", "add", "--allow-principal", "User:*", "--operation", "describe", "--operation", "READ",
                                  "--topic", secret] + b)
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdoutLines == ["added ALLOW User:* DESCRIBE TOPIC:LITERAL:\(secret) from *",
                                        "added ALLOW User:* READ TOPIC:LITERAL:\(secret) from *"])
            let deny = try runCLI(["acl", "add", "--deny-principal", "User:ANONYMOUS", "--operation", "WRITE", "--topic", secret] + b)
            #expect(deny.stdoutLines == ["added DENY User:ANONYMOUS WRITE TOPIC:LITERAL:\(secret) from *"])

            let produce = try runCLI(["produce", secret] + b, stdin: "x\n")
            #expect(produce.status != 0)
            #expect(produce.stderrLines.count == 1 && produce.stderr.contains("TOPIC_AUTHORIZATION_FAILED"), "\(produce.stderr)")

            let list = try runCLI(["acl", "list", "--topic", secret] + b)
            #expect(list.status == 0)
            #expect(list.stdoutLines.count == 3)
            let anonymous = try runCLI(["acl", "list", "--principal", "User:ANONYMOUS"] + b)
            #expect(anonymous.stdoutLines == ["DENY User:ANONYMOUS WRITE TOPIC:LITERAL:\(secret) from *"])

            let delete = try runCLI(["acl", "delete", "--deny-principal", "User:ANONYMOUS", "--topic", secret] + b)
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(delete.stdoutLines == ["deleted DENY User:ANONYMOUS WRITE TOPIC:LITERAL:\(secret) from *"])
            #expect(try runCLI(["acl", "list", "--topic", secret] + b).stdoutLines.count == 2)
            // The topic still has ACLs and none allows WRITE: refused until one does.
            #expect(try runCLI(["produce", secret] + b, stdin: "x\n").status != 0)
            #expect(try runCLI(["acl", "add", "--allow-principal", "User:ANONYMOUS", "--operation", "WRITE", "--topic", secret] + b).status == 0)
            let allowed = try runCLI(["produce", secret] + b, stdin: "x\n")
            #expect(allowed.status == 0, "\(allowed.stderr)")
        }
    }

    @Test func mistakesAndABrokerWithoutAnAuthorizerGetOneLine() async throws {
        try await withBroker { broker in
            let b = ["-b", broker.bootstrap]
            let noOperation = try runCLI(["acl", "add", "--allow-principal", "User:a", "--topic", "t"] + b)
            #expect(noOperation.status != 0)
            #expect(noOperation.stderrLines == ["runnel: name an operation: --operation"])
            let badOperation = try runCLI(["acl", "add", "--allow-principal", "User:a", "--operation", "FLY", "--topic", "t"] + b)
            #expect(badOperation.stderrLines == ["runnel: --operation FLY: not a Kafka ACL operation"])
            let disabled = try runCLI(["acl", "add", "--allow-principal", "User:a", "--operation", "READ", "--topic", "t"] + b)
            #expect(disabled.status != 0)
            #expect(disabled.stderrLines.count == 1 && disabled.stderr.contains("SECURITY_DISABLED"), "\(disabled.stderr)")
        }
    }
}
