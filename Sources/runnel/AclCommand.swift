import ArgumentParser
import ClusterMetadata
import Foundation
import RunnelClient
import RunnelCore

/// `runnel acl add|list|delete`: ACLs in the metadata log, modelled on kafka-acls.sh (D186).
struct AclCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Add, list and delete ACLs (the brokers need authorizer.class.name set).",
        subcommands: [Add.self, List.self, Delete.self]
    )

    /// The resources a command names (any number; `add` and `delete` act on each).
    struct Resources: ParsableArguments {
        @Option(name: .customLong("topic"), help: "A topic (or prefix, or * for every topic).") var topics: [String] = []
        @Option(name: .customLong("group"), help: "A consumer group (or prefix, or *).") var groups: [String] = []
        @Option(name: .customLong("transactional-id"), help: "A transactional id (or prefix, or *).") var transactionalIDs: [String] = []
        @Flag(name: .customLong("cluster"), help: "The cluster.") var cluster = false
        @Option(name: .customLong("resource-pattern-type"),
                help: "literal or prefixed (add); any, match, literal or prefixed (list, delete; default literal with a resource, any without).")
        var patternType: String?

        var named: [(AclResourceType, String)] {
            topics.map { (.topic, $0) } + groups.map { (.group, $0) } + transactionalIDs.map { (.transactionalID, $0) }
                + (cluster ? [(.cluster, AclResourceType.clusterName)] : [])
        }

        func pattern(default fallback: AclPatternType, allowed: [AclPatternType]) throws -> AclPatternType {
            guard let patternType else { return fallback }
            guard let p = allowed.first(where: { $0.description == patternType.uppercased() }) else {
                throw ValidationError("--resource-pattern-type \(patternType): expected one of \(allowed.map { $0.description.lowercased() }.joined(separator: ", "))")
            }
            return p
        }
    }

    struct Principals: ParsableArguments {
        @Option(name: .customLong("allow-principal"), help: "A principal to allow, e.g. User:alice (User:* for everyone).")
        var allow: [String] = []
        @Option(name: .customLong("deny-principal"), help: "A principal to deny.") var deny: [String] = []
        @Option(name: .customLong("allow-host"), help: "Hosts the allow applies to (default *).") var allowHosts: [String] = []
        @Option(name: .customLong("deny-host"), help: "Hosts the deny applies to (default *).") var denyHosts: [String] = []
        @Option(name: .customLong("operation"),
                help: "READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE or ALL.")
        var operations: [String] = []

        func parsedOperations() throws -> [AclOperation] {
            try operations.map { name in
                guard let op = AclOperation(name: name), ![.unknown, .any].contains(op) else {
                    throw ValidationError("--operation \(name): not a Kafka ACL operation")
                }
                return op
            }
        }

        /// (permission, principal, host) for each principal and host given.
        var grants: [(AclPermission, String, String)] {
            allow.flatMap { p in (allowHosts.isEmpty ? ["*"] : allowHosts).map { (AclPermission.allow, p, $0) } }
                + deny.flatMap { p in (denyHosts.isEmpty ? ["*"] : denyHosts).map { (AclPermission.deny, p, $0) } }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add ACLs: each principal and host × each operation × each resource.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var resources: Resources
        @OptionGroup var principals: Principals

        func run() async throws {
            let entries: [AclEntry]
            do {
                let pattern = try resources.pattern(default: .literal, allowed: [.literal, .prefixed])
                let operations = try principals.parsedOperations()
                guard !resources.named.isEmpty else { throw ValidationError("name a resource: --topic, --group, --transactional-id or --cluster") }
                guard !principals.grants.isEmpty else { throw ValidationError("name a principal: --allow-principal or --deny-principal") }
                guard !operations.isEmpty else { throw ValidationError("name an operation: --operation") }
                entries = resources.named.flatMap { type, name in
                    principals.grants.flatMap { permission, principal, host in
                        operations.map { op in
                            AclEntry(resourceType: type.rawValue, resourceName: name, patternType: pattern.rawValue, principal: principal,
                                     host: host, operation: op.rawValue, permission: permission.rawValue)
                        }
                    }
                }
            } catch { throw CommandFailure.report(error) }
            try await client.withClient { client in try await client.createAcls(entries) }
            StandardOutput.write(entries.map { "added \(AclText.line($0))\n" }.joined())
        }
    }

    /// The filters `list` and `delete` build: one per resource named (or one for every resource),
    /// each per principal given (or any), per operation given (or any).
    static func filters(_ resources: Resources, principals: [String], operations: [String],
                        permission: AclPermission, host: String?) throws -> [AclEntryFilter] {
        let named = resources.named
        let pattern = try resources.pattern(default: named.isEmpty ? .any : .literal, allowed: [.any, .match, .literal, .prefixed])
        let ops: [AclOperation] = try operations.isEmpty ? [.any] : operations.map {
            guard let op = AclOperation(name: $0), op != .unknown else { throw ValidationError("--operation \($0): not a Kafka ACL operation") }
            return op
        }
        let targets: [(AclResourceType, String?)] = named.isEmpty ? [(.any, nil)] : named.map { ($0.0, $0.1) }
        let who: [String?] = principals.isEmpty ? [nil] : principals
        return targets.flatMap { type, name in
            who.flatMap { principal in
                ops.map { op in
                    AclEntryFilter(resourceType: type.rawValue, resourceName: name, patternType: pattern.rawValue, principal: principal,
                                   host: host, operation: op.rawValue, permission: permission.rawValue)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List ACLs, all of them or those of the resources and principal named.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var resources: Resources
        @Option(name: .customLong("principal"), help: "Only the ACLs of this principal.") var principal: String?
        @Flag(name: .customLong("json"), help: "Print a JSON array.") var json = false

        func run() async throws {
            let filters: [AclEntryFilter]
            do {
                filters = try AclCommand.filters(resources, principals: principal.map { [$0] } ?? [], operations: [],
                                                 permission: .any, host: nil)
            } catch { throw CommandFailure.report(error) }
            let entries = try await client.withClient { client in
                var all: [AclEntry] = []
                for filter in filters { all += try await client.describeAcls(filter) }
                return all
            }
            if json {
                StandardOutput.write(try TopicJSON.encode(entries.map(AclText.JSON.init)) + "\n")
            } else {
                StandardOutput.write(entries.map { AclText.line($0) + "\n" }.joined())
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the ACLs that match: resources, principals, hosts and operations named narrow the match.")

        @OptionGroup var client: ClientOptions
        @OptionGroup var resources: Resources
        @OptionGroup var principals: Principals

        func run() async throws {
            var filters: [AclEntryFilter] = []
            do {
                let allowHost = principals.allowHosts.first
                let denyHost = principals.denyHosts.first
                if principals.allow.isEmpty && principals.deny.isEmpty {
                    filters = try AclCommand.filters(resources, principals: [], operations: principals.operations, permission: .any, host: nil)
                } else {
                    if !principals.allow.isEmpty {
                        filters += try AclCommand.filters(resources, principals: principals.allow, operations: principals.operations,
                                                          permission: .allow, host: allowHost)
                    }
                    if !principals.deny.isEmpty {
                        filters += try AclCommand.filters(resources, principals: principals.deny, operations: principals.operations,
                                                          permission: .deny, host: denyHost)
                    }
                }
            } catch { throw CommandFailure.report(error) }
            let removed = try await client.withClient { client in try await client.deleteAcls(filters) }
            StandardOutput.write(removed.map { "deleted \(AclText.line($0))\n" }.joined())
            if removed.isEmpty { CommandFailure.printError("no ACL matched") }
        }
    }
}

/// How `runnel acl` prints an ACL.
enum AclText {
    static func line(_ e: AclEntry) -> String {
        let type = AclResourceType(rawValue: e.resourceType)?.description ?? "\(e.resourceType)"
        let pattern = AclPatternType(rawValue: e.patternType)?.description ?? "\(e.patternType)"
        let op = AclOperation(rawValue: e.operation)?.description ?? "\(e.operation)"
        let permission = AclPermission(rawValue: e.permission)?.description ?? "\(e.permission)"
        return "\(permission) \(e.principal) \(op) \(type):\(pattern):\(e.resourceName) from \(e.host)"
    }

    struct JSON: Encodable {
        var resourceType: String
        var resourceName: String
        var patternType: String
        var principal: String
        var host: String
        var operation: String
        var permission: String

        init(_ e: AclEntry) {
            resourceType = AclResourceType(rawValue: e.resourceType)?.description ?? "\(e.resourceType)"
            resourceName = e.resourceName
            patternType = AclPatternType(rawValue: e.patternType)?.description ?? "\(e.patternType)"
            principal = e.principal
            host = e.host
            operation = AclOperation(rawValue: e.operation)?.description ?? "\(e.operation)"
            permission = AclPermission(rawValue: e.permission)?.description ?? "\(e.permission)"
        }
    }
}
