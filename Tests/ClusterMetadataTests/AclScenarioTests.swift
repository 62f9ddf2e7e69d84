// Runs the ACL scenarios in testdata/acl_*.txt through the shared scenario-file runner
// (RunnelTesting.ScenarioFile). With ACL_REWRITE=1 the files are rewritten with the actual output
// instead of failing: review the diff as you would review code.
//
// ACLs are added and removed through MetadataController's decisions and applied to an image, so
// the records (types 11 and 12) and their encoding are exercised on the way.
//
// Commands:
//   settings [super=P;P] [allow-everyone]     super.users and allow.everyone.if.no.acl.found
//   add allow|deny PRINCIPAL OP RESOURCE [host=H] [prefixed]
//                                              RESOURCE is topic=N, group=N, cluster or txn=N
//   delete FILTER…                             DeleteAcls with one filter; prints what it removed
//   list FILTER…                               DescribeAcls with one filter
//       FILTER words: type=topic|group|cluster|txn|any  name=N  pattern=any|match|literal|prefixed
//                     principal=P  host=H  op=OP  perm=allow|deny|any  (absent: any / null)
//   check PRINCIPAL OP RESOURCE [host=H]       the decision and the ACL that made it
//   ops PRINCIPAL RESOURCE [host=H]            the authorizedOperations set
//   any PRINCIPAL OP TYPE [host=H]             authorizeByResourceType (InitProducerId)
//   snapshot                                   the image rebuilt from its snapshot bytes is equal
// The host of a request defaults to 127.0.0.1.
import Foundation
import RunnelCore
import RunnelTesting
import Testing
@testable import ClusterMetadata

struct AclScenario {
    var image = MetadataImage()
    let controller = MetadataController(config: .init(sessionTimeoutMs: 9000))
    var settings = AclAuthorizer.Settings()
    var nextID: UInt64 = 1

    mutating func run(_ line: String) throws -> String {
        let c = ScenarioCommand(line)
        switch c.name {
        case "settings":
            settings = AclAuthorizer.Settings(superUsers: AclAuthorizer.Settings.superUsers(c.arguments["super"] ?? ""),
                                              allowEveryoneIfNoAclFound: c.has("allow-everyone"))
            return "super=\(settings.superUsers.sorted().joined(separator: ",")) allow-everyone=\(settings.allowEveryoneIfNoAclFound)"
        case "add":
            guard let permission = c.word(1).flatMap(Self.permission), let principal = c.word(2),
                  let operation = c.word(3).flatMap(AclOperation.init(name:)), let (type, name) = Self.resource(c) else {
                return "usage: add allow|deny PRINCIPAL OP RESOURCE"
            }
            let binding = AclBinding(resourceType: type, resourceName: name, patternType: c.has("prefixed") ? .prefixed : .literal,
                                     principal: principal, host: c.arguments["host"] ?? "*", operation: operation,
                                     permission: permission)
            let id = TopicID(high: 0, low: nextID)
            nextID += 1
            switch controller.createAcls([(id, binding)], in: image) {
            case .failure(let refusal): return "refused: \(refusal)"
            case .success(let records): return try apply(records)
            }
        case "delete":
            let filter = try Self.filter(c)
            if let reason = filter.invalidReason { return "refused: \(reason)" }
            return try apply(controller.deleteAcls(matching: [filter], in: image))
        case "list":
            let filter = try Self.filter(c)
            let found = image.acls(matching: filter).map { "\($0.binding)" }
            return found.isEmpty ? "(none)" : found.joined(separator: "\n")
        case "check":
            guard let principal = c.word(1), let operation = c.word(2).flatMap(AclOperation.init(name:)),
                  let (type, name) = Self.resource(c) else { return "usage: check PRINCIPAL OP RESOURCE" }
            return AclAuthorizer(settings: settings).authorize(
                principal: principal, host: c.arguments["host"] ?? "127.0.0.1", operation: operation,
                resourceType: type, resourceName: name, acls: image.acls.values).description
        case "ops":
            guard let principal = c.word(1), let (type, name) = Self.resource(c) else { return "usage: ops PRINCIPAL RESOURCE" }
            let bits = AclAuthorizer(settings: settings).authorizedOperations(
                principal: principal, host: c.arguments["host"] ?? "127.0.0.1", resourceType: type, resourceName: name,
                acls: image.acls.values)
            let names = AclOperation.allCases.filter { bits & (Int32(1) << Int32($0.rawValue)) != 0 }.map(\.description)
            return "bits=\(bits) " + (names.isEmpty ? "(none)" : names.joined(separator: ","))
        case "any":
            guard let principal = c.word(1), let operation = c.word(2).flatMap(AclOperation.init(name:)),
                  let type = c.word(3).flatMap(Self.resourceType) else { return "usage: any PRINCIPAL OP TYPE" }
            let allowed = AclAuthorizer(settings: settings).authorizeAny(
                principal: principal, host: c.arguments["host"] ?? "127.0.0.1", operation: operation, resourceType: type,
                acls: Array(image.acls.values))
            return allowed ? "ALLOWED" : "DENIED"
        case "snapshot":
            let restored = try MetadataImage.decodeSnapshot(image.encodeSnapshot())
            return restored == image ? "restored \(image.acls.count) ACLs" : "MISMATCH"
        default:
            return "unknown command \(c.name)"
        }
    }

    /// Encodes, decodes and applies the records; prints them.
    private mutating func apply(_ records: [MetadataRecord]) throws -> String {
        var lines: [String] = []
        for record in records {
            let decoded = try MetadataRecord.decode(record.encode())
            guard decoded == record else { return "ENCODING MISMATCH \(record)" }
            switch record {
            case .acl(let id, let binding): lines.append("+ acl \(id.low): \(binding)")
            case .removeAcl(let id): lines.append("- acl \(id.low): \(image.acls[id].map { "\($0)" } ?? "?")")
            default: lines.append("\(record)")
            }
            image = try image.applying(record)
        }
        return lines.isEmpty ? "(no records)" : lines.joined(separator: "\n")
    }

    static func permission(_ word: String) -> AclPermission? {
        switch word.lowercased() {
        case "allow": .allow
        case "deny": .deny
        case "any": .any
        default: nil
        }
    }

    static func resourceType(_ word: String) -> AclResourceType? {
        switch word.lowercased() {
        case "topic": .topic
        case "group": .group
        case "cluster": .cluster
        case "txn": .transactionalID
        case "any": .any
        default: nil
        }
    }

    static func resource(_ c: ScenarioCommand) -> (AclResourceType, String)? {
        if c.has("cluster") { return (.cluster, AclResourceType.clusterName) }
        for (key, type) in [("topic", AclResourceType.topic), ("group", .group), ("txn", .transactionalID)] {
            if let name = c.arguments[key] { return (type, name) }
        }
        return nil
    }

    struct BadFilter: Error { let word: String }

    static func filter(_ c: ScenarioCommand) throws -> AclBindingFilter {
        var f = AclBindingFilter()
        if let t = c.arguments["type"] { f.resourceType = try resourceType(t) ?? { throw BadFilter(word: t) }() }
        f.resourceName = c.arguments["name"]
        if let p = c.arguments["pattern"] {
            f.patternType = try ["any": AclPatternType.any, "match": .match, "literal": .literal, "prefixed": .prefixed,
                                 "unknown": .unknown][p] ?? { throw BadFilter(word: p) }()
        }
        f.principal = c.arguments["principal"]
        f.host = c.arguments["host"]
        if let o = c.arguments["op"] { f.operation = try AclOperation(name: o) ?? { throw BadFilter(word: o) }() }
        if let p = c.arguments["perm"] { f.permission = try permission(p) ?? { throw BadFilter(word: p) }() }
        return f
    }
}

@Suite struct AclScenarioTests {
    @Test(arguments: ScenarioFile.files(besides: #filePath).filter { $0.lastPathComponent.hasPrefix("acl_") })
    func scenario(_ url: URL) throws {
        var scenario = AclScenario()
        let mismatches = try ScenarioFile.run(url, rewriteVariable: "ACL_REWRITE") { try scenario.run($0) }
        for mismatch in mismatches { Issue.record("\(mismatch)") }
    }

    @Test func aclRecordsRefuseBadCodes() throws {
        let binding = AclBinding(resourceType: .topic, resourceName: "t", patternType: .literal, principal: "User:a",
                                 host: "*", operation: .read, permission: .allow)
        var bytes = MetadataRecord.acl(id: TopicID(high: 1, low: 2), binding: binding).encode()
        #expect(try MetadataRecord.decode(bytes) == .acl(id: TopicID(high: 1, low: 2), binding: binding))
        bytes[2 + 16] = 99 // the resource type
        #expect(throws: MetadataDecodeError.self) { try MetadataRecord.decode(bytes) }
        // A removal of an ACL the image does not hold is a broken log.
        #expect(throws: MetadataDecodeError.self) { try MetadataImage().applying(.removeAcl(id: TopicID(high: 0, low: 9))) }
    }
}
