import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore

// DeleteAcls (key 31), versions 1-3. Each filter selects ACLs as Kafka's AclBindingFilter does
// (ANY matches anything; pattern MATCH selects the ACLs that apply to the named resource: its
// literal ones, the `*` wildcard and every prefix); all that any filter selects are removed in
// one batch of records (type 12) through the active controller, and each filter's answer lists
// what it matched. A filter with an UNKNOWN field gets INVALID_REQUEST. The principal needs ALTER
// on the cluster; with ACLs off every filter gets SECURITY_DISABLED (54).
extension Broker {
    func handleDeleteAcls(_ request: DeleteAclsRequest, _ context: RequestContext, _ respond: Responder<DeleteAclsResponse>) {
        var response = DeleteAclsResponse()
        guard authorizer.isEnabled else {
            response.filterResults = request.filters.map { _ in
                .init(errorCode: KafkaErrorCode.securityDisabled.rawValue, errorMessage: "No authorizer is configured (authorizer.class.name).")
            }
            return respond.send(response)
        }
        let filters = request.filters.map {
            Self.filter(resourceType: $0.resourceTypeFilter, name: $0.resourceNameFilter, pattern: $0.patternTypeFilter,
                        principal: $0.principalFilter, host: $0.hostFilter, operation: $0.operation, permission: $0.permissionType)
        }
        let usable = filters.compactMap { if case .success(let f) = $0 { f } else { nil } }
        final class Matches { var byFilter: [[AclBinding]] = [] }
        let matches = Matches()
        controlPlane.submit({ controller, latest in
            matches.byFilter = usable.map { latest.acls(matching: $0).map(\.binding) }
            return .success(controller.deleteAcls(matching: usable, in: latest))
        }) { [self] outcome in
            var next = matches.byFilter.makeIterator()
            response.filterResults = filters.map { filter in
                switch (filter, outcome) {
                case (.failure(let invalid), _):
                    return .init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: invalid.reason)
                case (.success, .failure(let refusal)):
                    return .init(errorCode: refusal.code.rawValue, errorMessage: refusal.message)
                case (.success, .success):
                    let matched = next.next() ?? []
                    return .init(errorCode: 0, errorMessage: nil, matchingAcls: matched.map {
                        .init(errorCode: 0, errorMessage: nil, resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName,
                              patternType: $0.patternType.rawValue, principal: $0.principal, host: $0.host,
                              operation: $0.operation.rawValue, permissionType: $0.permission.rawValue)
                    })
                }
            }
            let removed = matches.byFilter.reduce(0) { $0 + $1.count }
            if case .success = outcome, removed > 0 {
                logger.info("\(context.connection.principal) removed \(counted(removed, "ACL"))")
            }
            respond.send(response)
        }
    }

    /// A DescribeAcls/DeleteAcls filter from its wire fields, or why it is refused.
    static func filter(resourceType: Int8, name: String?, pattern: Int8, principal: String?, host: String?,
                       operation: Int8, permission: Int8) -> Result<AclBindingFilter, InvalidAcl> {
        guard let type = AclResourceType(rawValue: resourceType) else { return .failure(InvalidAcl("Unknown resource type \(resourceType).")) }
        guard let patternType = AclPatternType(rawValue: pattern) else { return .failure(InvalidAcl("Unknown pattern type \(pattern).")) }
        guard let op = AclOperation(rawValue: operation) else { return .failure(InvalidAcl("Unknown operation \(operation).")) }
        guard let perm = AclPermission(rawValue: permission) else { return .failure(InvalidAcl("Unknown permission type \(permission).")) }
        let filter = AclBindingFilter(resourceType: type, resourceName: name, patternType: patternType, principal: principal,
                                      host: host, operation: op, permission: perm)
        if let reason = filter.invalidReason { return .failure(InvalidAcl(reason)) }
        return .success(filter)
    }
}
