import ClusterMetadata
import RunnelCore

/// Decides what the principal of a request may do: the shell around `AclAuthorizer` (the pure
/// StandardAuthorizer decision in ClusterMetadata), with the broker's settings and the ACLs of
/// the metadata image this broker has applied.
///
/// Off (`authorizer.class.name` unset, the default): every operation is allowed, as in Kafka
/// without an authorizer. On: `AclAuthorizer` decides, except for requests that arrive on a
/// controller listener (`controller.listener.names`): those are the cluster's own (Raft,
/// registration, heartbeats and admin requests forwarded by a broker that already checked
/// them) and are allowed (D182).
struct Authorizer {
    /// The accepted values of `authorizer.class.name` that turn ACLs on (D180).
    static let classNames = ["org.apache.kafka.metadata.authorizer.StandardAuthorizer", "runnel"]

    /// nil when ACLs are off.
    let decision: AclAuthorizer?
    let controllerListeners: Set<String>

    init(config: BrokerConfig) {
        let className = config.string("authorizer.class.name") ?? ""
        if className.isEmpty {
            decision = nil
        } else {
            decision = AclAuthorizer(settings: .init(
                superUsers: AclAuthorizer.Settings.superUsers(config.string("super.users") ?? ""),
                allowEveryoneIfNoAclFound: config.bool("allow.everyone.if.no.acl.found")))
        }
        controllerListeners = Set(config.controllerListenerNames)
    }

    var isEnabled: Bool { decision != nil }

    /// The request's principal and host as ACLs name them ("User:alice", "127.0.0.1").
    static func identity(_ context: RequestContext) -> (principal: String, host: String) {
        let host = context.connection.host
        return (context.connection.principal.description, host.hasPrefix("/") ? String(host.dropFirst()) : host)
    }

    /// Whether the request may do `operation` on the resource.
    func authorize(_ operation: AclOperation, _ type: AclResourceType, _ name: String, context: RequestContext,
                   image: MetadataImage) -> Bool {
        guard let decision, !controllerListeners.contains(context.connection.listenerName) else { return true }
        let who = Self.identity(context)
        return decision.authorize(principal: who.principal, host: who.host, operation: operation, resourceType: type,
                                  resourceName: name, acls: image.acls.values).isAllowed
    }

    /// Whether the request may do `operation` on some resource of `type` (Kafka's
    /// authorizeByResourceType).
    func authorizeAny(_ operation: AclOperation, _ type: AclResourceType, context: RequestContext,
                      image: MetadataImage) -> Bool {
        guard let decision, !controllerListeners.contains(context.connection.listenerName) else { return true }
        let who = Self.identity(context)
        return decision.authorizeAny(principal: who.principal, host: who.host, operation: operation, resourceType: type,
                                     acls: image.acls.values)
    }

    /// The `authorizedOperations` bit field for the resource: every supported operation when
    /// ACLs are off, otherwise those the principal may do — and for the cluster nothing unless
    /// the principal may DESCRIBE it (Kafka's Metadata and DescribeCluster rule).
    func authorizedOperations(_ type: AclResourceType, name: String, context: RequestContext, image: MetadataImage) -> Int32 {
        guard let decision, !controllerListeners.contains(context.connection.listenerName) else {
            return Self.bitField(type.supportedOperations)
        }
        if type == .cluster && !authorize(.describe, .cluster, name, context: context, image: image) { return 0 }
        let who = Self.identity(context)
        return decision.authorizedOperations(principal: who.principal, host: who.host, resourceType: type,
                                             resourceName: name, acls: image.acls.values)
    }

    /// Kafka's encoding (`Utils.to32BitField`): bit `code` for each operation.
    static func bitField(_ operations: [AclOperation]) -> Int32 {
        operations.reduce(Int32(0)) { $0 | (Int32(1) << Int32($1.rawValue)) }
    }
}

extension Broker {
    /// Whether this request may do `operation` on the resource (always, with ACLs off).
    func authorize(_ operation: AclOperation, _ type: AclResourceType, _ name: String, _ context: RequestContext) -> Bool {
        authorizer.authorize(operation, type, name, context: context, image: image)
    }

    /// Whether this request may do `operation` on the cluster.
    func authorizeCluster(_ operation: AclOperation, _ context: RequestContext) -> Bool {
        authorizer.authorize(operation, .cluster, AclResourceType.clusterName, context: context, image: image)
    }

    /// GROUP_AUTHORIZATION_FAILED when this request may not do `operation` on the group.
    func groupAuthorizationError(_ operation: AclOperation, _ group: String, _ context: RequestContext) -> KafkaErrorCode? {
        authorize(operation, .group, group, context) ? nil : .groupAuthorizationFailed
    }

    func authorizedOperations(_ type: AclResourceType, name: String, context: RequestContext) -> Int32 {
        authorizer.authorizedOperations(type, name: name, context: context, image: image)
    }
}

/// Why an ACL or ACL filter of a request is refused (INVALID_REQUEST with this reason).
struct InvalidAcl: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
