import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore

// DescribeAcls (key 29), versions 1-3: the ACLs of this broker's metadata image that the filter
// selects (see 31_DeleteAcls.swift for the filter rules), grouped by resource pattern. Needs
// DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED, 31); with ACLs off the answer is
// SECURITY_DISABLED (54); a filter with an UNKNOWN field is INVALID_REQUEST.
extension Broker {
    func handleDescribeAcls(_ request: DescribeAclsRequest, _ context: RequestContext, _ respond: Responder<DescribeAclsResponse>) {
        var response = DescribeAclsResponse()
        func refuse(_ code: KafkaErrorCode, _ message: String) {
            response.errorCode = code.rawValue
            response.errorMessage = message
            respond.send(response)
        }
        guard authorizer.isEnabled else { return refuse(.securityDisabled, "No authorizer is configured (authorizer.class.name).") }
        guard authorizeCluster(.describe, context) else { return refuse(.clusterAuthorizationFailed, Self.authorizationFailed) }
        let filter: AclBindingFilter
        switch Self.filter(resourceType: request.resourceTypeFilter, name: request.resourceNameFilter,
                           pattern: request.patternTypeFilter, principal: request.principalFilter, host: request.hostFilter,
                           operation: request.operation, permission: request.permissionType) {
        case .failure(let invalid): return refuse(.invalidRequest, invalid.reason)
        case .success(let f): filter = f
        }
        response.errorMessage = nil
        for (_, binding) in image.acls(matching: filter) {
            let acl = DescribeAclsResponse.AclDescription(principal: binding.principal, host: binding.host,
                                                          operation: binding.operation.rawValue,
                                                          permissionType: binding.permission.rawValue)
            if let last = response.resources.last, last.resourceType == binding.resourceType.rawValue,
               last.resourceName == binding.resourceName, last.patternType == binding.patternType.rawValue {
                response.resources[response.resources.count - 1].acls.append(acl)
            } else {
                response.resources.append(.init(resourceType: binding.resourceType.rawValue, resourceName: binding.resourceName,
                                                patternType: binding.patternType.rawValue, acls: [acl]))
            }
        }
        respond.send(response)
    }
}
