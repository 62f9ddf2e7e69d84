import RunnelCore

/// The ACL decision, pure: Kafka's StandardAuthorizer semantics (KIP-11, KIP-290) over the ACLs
/// of a metadata image. The broker shell asks it with the request's principal and host.
///
/// The rules, in order:
/// 1. A principal listed in `super.users` is allowed everything.
/// 2. The ACLs that apply to a resource are those of its type whose pattern covers its name: a
///    LITERAL ACL of the same name, a LITERAL ACL named `*`, a PREFIXED ACL whose name starts it.
/// 3. Of those, an ACL concerns the request when its principal is the request's or `User:*`, its
///    host is the request's or `*`, and its operation is the requested one or ALL. An ALLOW of
///    READ, WRITE, DELETE or ALTER also allows DESCRIBE, and an ALLOW of ALTER_CONFIGS allows
///    DESCRIBE_CONFIGS; a DENY denies only what it names (or everything with ALL).
/// 4. A DENY that concerns the request wins over any ALLOW; otherwise an ALLOW allows.
/// 5. When no ACL at all applies to the resource (rule 2, whoever it names), the answer is
///    `allow.everyone.if.no.acl.found` (default false); otherwise it is a denial.
public struct AclAuthorizer: Sendable {
    public struct Settings: Equatable, Sendable {
        /// `super.users`, as principals (`User:admin`).
        public var superUsers: Set<String>
        /// `allow.everyone.if.no.acl.found`.
        public var allowEveryoneIfNoAclFound: Bool

        public init(superUsers: Set<String> = [], allowEveryoneIfNoAclFound: Bool = false) {
            self.superUsers = superUsers
            self.allowEveryoneIfNoAclFound = allowEveryoneIfNoAclFound
        }

        /// Parses `super.users`: principals separated by semicolons, blanks ignored.
        public static func superUsers(_ value: String) -> Set<String> {
            Set(value.split(separator: ";").map { String($0).trimmingBlanks() }.filter { !$0.isEmpty })
        }
    }

    /// Why a decision came out as it did (for scenario output and the log).
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        case superUser
        case denied(by: AclBinding)
        case allowed(by: AclBinding)
        case noAclFound(allowEveryone: Bool)
        case noMatchingAllow

        public var isAllowed: Bool {
            switch self {
            case .superUser, .allowed: true
            case .noAclFound(let allowEveryone): allowEveryone
            case .denied, .noMatchingAllow: false
            }
        }

        public var description: String {
            switch self {
            case .superUser: "ALLOWED super user"
            case .denied(let acl): "DENIED by \(acl)"
            case .allowed(let acl): "ALLOWED by \(acl)"
            case .noAclFound(let allowEveryone): allowEveryone ? "ALLOWED no ACL found" : "DENIED no ACL found"
            case .noMatchingAllow: "DENIED no matching ALLOW"
            }
        }
    }

    public var settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// The decision for `principal` connecting from `host` doing `operation` on the resource.
    public func authorize(principal: String, host: String, operation: AclOperation,
                          resourceType: AclResourceType, resourceName: String,
                          acls: some Sequence<AclBinding>) -> Reason {
        if settings.superUsers.contains(principal) { return .superUser }
        var foundResourceAcl = false
        var allow: AclBinding?
        for acl in acls where acl.resourceType == resourceType && Self.covers(acl, resourceName) {
            foundResourceAcl = true
            guard acl.principal == principal || acl.principal == AclBinding.wildcardPrincipal,
                  acl.host == host || acl.host == AclBinding.wildcardHost else { continue }
            switch acl.permission {
            case .deny:
                if acl.operation == .all || acl.operation == operation { return .denied(by: acl) }
            case .allow:
                if allow == nil && (acl.operation == .all || operation.impliedByAllow.contains(acl.operation)) { allow = acl }
            default:
                continue
            }
        }
        if let allow { return .allowed(by: allow) }
        return foundResourceAcl ? .noMatchingAllow : .noAclFound(allowEveryone: settings.allowEveryoneIfNoAclFound)
    }

    /// Whether `principal` may do `operation` on some resource of `resourceType` (Kafka's
    /// `authorizeByResourceType`, used by InitProducerId: an idempotent producer needs WRITE on
    /// at least one topic). As Kafka does it: first the ordinary decision for a resource named
    /// `hardcode` (which allows a super user, and everyone under `allow.everyone.if.no.acl.found`
    /// when no ACL covers that name); then denied when a DENY of the operation covers every
    /// resource of the type (a LITERAL `*`); allowed when an ALLOW concerns the principal and no
    /// DENY of the same literal name or a prefix of its name covers it; otherwise denied.
    public func authorizeAny(principal: String, host: String, operation: AclOperation,
                             resourceType: AclResourceType, acls: some Collection<AclBinding>) -> Bool {
        if authorize(principal: principal, host: host, operation: operation, resourceType: resourceType,
                     resourceName: "hardcode", acls: acls).isAllowed { return true }
        let concerning = acls.filter {
            $0.resourceType == resourceType
                && ($0.principal == principal || $0.principal == AclBinding.wildcardPrincipal)
                && ($0.host == host || $0.host == AclBinding.wildcardHost)
        }
        let denies = concerning.filter { $0.permission == .deny && ($0.operation == .all || $0.operation == operation) }
        if denies.contains(where: { $0.patternType == .literal && $0.resourceName == AclBinding.wildcardResource }) { return false }
        let allows = concerning.filter {
            $0.permission == .allow && ($0.operation == .all || operation.impliedByAllow.contains($0.operation))
        }
        for allowed in allows {
            let shadowed = denies.contains { deny in
                switch (deny.patternType, allowed.patternType) {
                case (.literal, .literal): return deny.resourceName == allowed.resourceName
                case (.prefixed, _): return allowed.resourceName.hasPrefix(deny.resourceName)
                default: return false
                }
            }
            if !shadowed { return true }
        }
        return false
    }

    /// Kafka's `authorizedOperations` bit field for the resource: bit `code` for each supported
    /// operation the principal may do.
    public func authorizedOperations(principal: String, host: String, resourceType: AclResourceType,
                                     resourceName: String, acls: some Collection<AclBinding>) -> Int32 {
        resourceType.supportedOperations.reduce(Int32(0)) { bits, operation in
            let allowed = authorize(principal: principal, host: host, operation: operation, resourceType: resourceType,
                                    resourceName: resourceName, acls: acls).isAllowed
            return allowed ? bits | (Int32(1) << Int32(operation.rawValue)) : bits
        }
    }

    /// Whether `acl`'s pattern covers the resource named `name`.
    static func covers(_ acl: AclBinding, _ name: String) -> Bool {
        switch acl.patternType {
        case .literal: acl.resourceName == name || acl.resourceName == AclBinding.wildcardResource
        case .prefixed: name.hasPrefix(acl.resourceName)
        default: false
        }
    }
}

extension String {
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
