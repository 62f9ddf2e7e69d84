import ClusterMetadata
import KafkaMessages
import Logging
import RunnelCore

// CreateAcls (key 30), versions 1-3. Each creation is checked (concrete resource type, LITERAL or
// PREFIXED, an operation that applies to the type, ALLOW or DENY, a Type:name principal, a host)
// → INVALID_REQUEST naming the reason; the valid ones are written to the metadata log as one
// batch of ACL records (type 11, each with a fresh id), through the active controller as the other
// admin writes are, and answered once committed. An ACL equal to a stored one is not stored twice.
// The principal needs ALTER on the cluster (the gate in AuthorizationGate.swift); with ACLs off
// every creation gets SECURITY_DISABLED (54), as in Kafka.
extension Broker {
    func handleCreateAcls(_ request: CreateAclsRequest, _ context: RequestContext, _ respond: Responder<CreateAclsResponse>) {
        var response = CreateAclsResponse()
        guard authorizer.isEnabled else {
            response.results = request.creations.map { _ in
                .init(errorCode: KafkaErrorCode.securityDisabled.rawValue, errorMessage: "No authorizer is configured (authorizer.class.name).")
            }
            return respond.send(response)
        }
        var results: [CreateAclsResponse.AclCreationResult?] = []
        var valid: [(index: Int, id: TopicID, binding: AclBinding)] = []
        for (index, creation) in request.creations.enumerated() {
            switch Self.binding(creation) {
            case .failure(let invalid):
                results.append(.init(errorCode: KafkaErrorCode.invalidRequest.rawValue, errorMessage: invalid.reason))
            case .success(let binding):
                results.append(nil)
                valid.append((index, TopicID.random(using: &topicIDs), binding))
            }
        }
        let bindings = valid.map { (id: $0.id, binding: $0.binding) }
        controlPlane.submit({ controller, latest in controller.createAcls(bindings, in: latest) }) { [self] outcome in
            for item in valid {
                switch outcome {
                case .success:
                    results[item.index] = .init(errorCode: 0, errorMessage: nil)
                case .failure(let refusal):
                    results[item.index] = .init(errorCode: refusal.code.rawValue, errorMessage: refusal.message)
                }
            }
            if case .success = outcome, !valid.isEmpty {
                logger.info("\(context.connection.principal) added ACLs: \(valid.map { "\($0.binding)" }.joined(separator: "; "))")
            }
            response.results = results.map { $0! }
            respond.send(response)
        }
    }

    /// The binding a creation describes, or why it is not a valid one.
    static func binding(_ c: CreateAclsRequest.AclCreation) -> Result<AclBinding, InvalidAcl> {
        guard let type = AclResourceType(rawValue: c.resourceType) else { return .failure(InvalidAcl("Unknown resource type \(c.resourceType).")) }
        guard let pattern = AclPatternType(rawValue: c.resourcePatternType) else { return .failure(InvalidAcl("Unknown pattern type \(c.resourcePatternType).")) }
        guard let operation = AclOperation(rawValue: c.operation) else { return .failure(InvalidAcl("Unknown operation \(c.operation).")) }
        guard let permission = AclPermission(rawValue: c.permissionType) else { return .failure(InvalidAcl("Unknown permission type \(c.permissionType).")) }
        let binding = AclBinding(resourceType: type, resourceName: c.resourceName, patternType: pattern, principal: c.principal,
                                 host: c.host, operation: operation, permission: permission)
        if let reason = binding.invalidReason { return .failure(InvalidAcl(reason)) }
        return .success(binding)
    }
}
