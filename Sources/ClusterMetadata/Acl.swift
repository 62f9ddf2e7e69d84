import RunnelCore

/// Kafka's ACL operations, by their wire code (`AclOperation` in Kafka's clients). The codes are
/// also what the `authorizedOperations` bit fields are made of: bit `code` set means allowed.
public enum AclOperation: Int8, CaseIterable, Sendable, CustomStringConvertible {
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

    /// Kafka's name (`CLUSTER_ACTION`), as kafka-acls.sh and `runnel acl` spell it.
    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .all: "ALL"
        case .read: "READ"
        case .write: "WRITE"
        case .create: "CREATE"
        case .delete: "DELETE"
        case .alter: "ALTER"
        case .describe: "DESCRIBE"
        case .clusterAction: "CLUSTER_ACTION"
        case .describeConfigs: "DESCRIBE_CONFIGS"
        case .alterConfigs: "ALTER_CONFIGS"
        case .idempotentWrite: "IDEMPOTENT_WRITE"
        case .createTokens: "CREATE_TOKENS"
        case .describeTokens: "DESCRIBE_TOKENS"
        }
    }

    /// Parses Kafka's name, case-insensitively, with `-` or `_` (`cluster-action`).
    public init?(name: String) {
        let wanted = String(name.uppercased().map { $0 == "-" ? "_" : $0 })
        guard let match = Self.allCases.first(where: { $0.description == wanted }) else { return nil }
        self = match
    }

    /// The operations an ALLOW of this one also allows (Kafka's implication rules): DESCRIBE
    /// follows from READ, WRITE, DELETE and ALTER; DESCRIBE_CONFIGS from ALTER_CONFIGS.
    /// Implications never apply to DENY: a DENY of READ leaves DESCRIBE alone.
    var impliedByAllow: Set<AclOperation> {
        switch self {
        case .describe: [.describe, .read, .write, .delete, .alter]
        case .describeConfigs: [.describeConfigs, .alterConfigs]
        default: [self]
        }
    }
}

/// Kafka's resource types (`ResourceType`), by wire code.
public enum AclResourceType: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case unknown = 0
    case any = 1
    case topic = 2
    case group = 3
    case cluster = 4
    case transactionalID = 5
    case delegationToken = 6
    case user = 7

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .topic: "TOPIC"
        case .group: "GROUP"
        case .cluster: "CLUSTER"
        case .transactionalID: "TRANSACTIONAL_ID"
        case .delegationToken: "DELEGATION_TOKEN"
        case .user: "USER"
        }
    }

    /// The one cluster resource's name, as Kafka names it.
    public static let clusterName = "kafka-cluster"

    /// The operations an ACL on this kind of resource may name: Kafka 4's
    /// `AclEntry.supportedOperations` (the group set includes DESCRIBE_CONFIGS and ALTER_CONFIGS
    /// since group configs exist, KIP-848). ALL is accepted on every type as well.
    public var supportedOperations: [AclOperation] {
        switch self {
        case .topic: [.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs]
        case .group: [.read, .delete, .describe, .describeConfigs, .alterConfigs]
        case .cluster: [.create, .alter, .describe, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite]
        case .transactionalID: [.describe, .write]
        case .delegationToken: [.describe]
        case .user: [.createTokens, .describeTokens]
        case .unknown, .any: []
        }
    }
}

/// How an ACL's resource name applies (`PatternType`): LITERAL names one resource (or every
/// one, with the name `*`), PREFIXED every resource whose name starts with it. ANY and MATCH
/// occur only in filters.
public enum AclPatternType: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case unknown = 0
    case any = 1
    case match = 2
    case literal = 3
    case prefixed = 4

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .match: "MATCH"
        case .literal: "LITERAL"
        case .prefixed: "PREFIXED"
        }
    }
}

/// ALLOW or DENY (`AclPermissionType`); ANY occurs only in filters.
public enum AclPermission: Int8, CaseIterable, Sendable, CustomStringConvertible {
    case unknown = 0
    case any = 1
    case deny = 2
    case allow = 3

    public var description: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .deny: "DENY"
        case .allow: "ALLOW"
        }
    }
}

/// One ACL: who (`principal` at `host`) is allowed or denied `operation` on the resources the
/// pattern names. Principals are written `Type:name`; `User:*` is every user and host `*`
/// every host; the literal resource name `*` is every resource of the type.
public struct AclBinding: Hashable, Sendable, CustomStringConvertible {
    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: AclPatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermission

    public init(resourceType: AclResourceType, resourceName: String, patternType: AclPatternType, principal: String,
                host: String, operation: AclOperation, permission: AclPermission) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    public static let wildcardResource = "*"
    public static let wildcardPrincipal = "User:*"
    public static let wildcardHost = "*"

    public var description: String {
        "\(permission) \(principal) \(operation) \(resourceType):\(patternType):\(resourceName) from \(host)"
    }

    /// Why this binding cannot be stored (Kafka's CreateAcls checks), or nil when it can.
    public var invalidReason: String? {
        guard ![.unknown, .any].contains(resourceType) else { return "Resource type \(resourceType) is not a concrete type." }
        guard [.literal, .prefixed].contains(patternType) else { return "Pattern type \(patternType) is not LITERAL or PREFIXED." }
        guard ![.unknown, .any].contains(operation) else { return "Operation \(operation) is not a concrete operation." }
        guard [.allow, .deny].contains(permission) else { return "Permission \(permission) is not ALLOW or DENY." }
        guard !resourceName.isEmpty else { return "The resource name is empty." }
        guard operation == .all || resourceType.supportedOperations.contains(operation) else {
            return "Operation \(operation) does not apply to resource type \(resourceType)."
        }
        if resourceType == .cluster && resourceName != AclResourceType.clusterName {
            return "The cluster resource is named \(AclResourceType.clusterName), not '\(resourceName)'."
        }
        guard let colon = principal.firstIndex(of: ":"), colon != principal.startIndex,
              principal.index(after: colon) != principal.endIndex else {
            return "Principal '\(principal)' is not of the form Type:name."
        }
        guard !host.isEmpty else { return "The host is empty (use * for every host)." }
        return nil
    }
}

/// Which bindings a DescribeAcls or DeleteAcls filter selects (Kafka's `AclBindingFilter`): a
/// nil name, principal or host matches any; ANY matches any resource type, operation, permission
/// and pattern type. Pattern type MATCH selects the bindings that would apply to the resource
/// named exactly: its literal ACLs, the `*` wildcard of its type, and every prefix of the name.
public struct AclBindingFilter: Hashable, Sendable {
    public var resourceType: AclResourceType
    public var resourceName: String?
    public var patternType: AclPatternType
    public var principal: String?
    public var host: String?
    public var operation: AclOperation
    public var permission: AclPermission

    public init(resourceType: AclResourceType = .any, resourceName: String? = nil, patternType: AclPatternType = .any,
                principal: String? = nil, host: String? = nil, operation: AclOperation = .any,
                permission: AclPermission = .any) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    /// Why the filter is refused (a filter with an UNKNOWN field), or nil.
    public var invalidReason: String? {
        if resourceType == .unknown { return "The filter's resource type is UNKNOWN." }
        if patternType == .unknown { return "The filter's pattern type is UNKNOWN." }
        if operation == .unknown { return "The filter's operation is UNKNOWN." }
        if permission == .unknown { return "The filter's permission type is UNKNOWN." }
        return nil
    }

    public func matches(_ binding: AclBinding) -> Bool {
        guard resourceType == .any || resourceType == binding.resourceType,
              operation == .any || operation == binding.operation,
              permission == .any || permission == binding.permission,
              principal.map({ $0 == binding.principal }) ?? true,
              host.map({ $0 == binding.host }) ?? true else { return false }
        switch patternType {
        case .any:
            return resourceName.map { $0 == binding.resourceName } ?? true
        case .match:
            guard let name = resourceName else { return true }
            switch binding.patternType {
            case .literal: return binding.resourceName == name || binding.resourceName == AclBinding.wildcardResource
            case .prefixed: return name.hasPrefix(binding.resourceName)
            default: return false
            }
        case .literal, .prefixed:
            return binding.patternType == patternType && (resourceName.map { $0 == binding.resourceName } ?? true)
        case .unknown:
            return false
        }
    }
}
