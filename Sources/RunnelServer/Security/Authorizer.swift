/// Kafka's ACL operations, by their wire code (`AclOperation` in Kafka's clients). The codes are
/// what the `authorizedOperations` bit fields of Metadata, DescribeGroups and
/// ConsumerGroupDescribe and DescribeCluster are made of: bit `code` set means
/// the operation is allowed.
enum AclOperation: Int8, CaseIterable {
    case unknown = 0
    case any = 1
    case all = 2
    case read = 3
    case write = 4
    case create = 5
    case delete = 6
    case alter = 7
    case describe = 8
    case clusterAction = 9
    case describeConfigs = 10
    case alterConfigs = 11
    case idempotentWrite = 12
    case createTokens = 13
    case describeTokens = 14
}

/// The kinds of resource whose authorized operations Runnel reports.
enum AclResourceType {
    case topic
    case group
    case cluster

    /// The operations that apply to this kind of resource: Kafka 4's `AclEntry.supportedOperations`
    /// (the group set includes DESCRIBE_CONFIGS and ALTER_CONFIGS since group configs exist, KIP-848).
    var supportedOperations: [AclOperation] {
        switch self {
        case .topic: [.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs]
        case .group: [.read, .delete, .describe, .describeConfigs, .alterConfigs]
        case .cluster: [.create, .alter, .describe, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite]
        }
    }
}

/// Decides what the principal of a request may do. This is the one place ACLs will plug into:
/// until they exist, Runnel behaves as Kafka does without an authorizer (`authorizer.class.name`
/// unset) and allows every operation a resource supports, to everyone.
struct Authorizer {
    /// The `authorizedOperations` bit field for `resource` named `name`, as the client of
    /// `context` may use it. `name` and `context` are unused until ACLs exist.
    func authorizedOperations(_ resource: AclResourceType, name: String, context: RequestContext) -> Int32 {
        Self.bitField(resource.supportedOperations)
    }

    /// Kafka's encoding (`Utils.to32BitField`): bit `code` for each operation.
    static func bitField(_ operations: [AclOperation]) -> Int32 {
        operations.reduce(Int32(0)) { $0 | (Int32(1) << Int32($1.rawValue)) }
    }
}
