import KafkaMessages
import RunnelCore

/// One ACL as the admin calls carry it: Kafka's wire codes (resource type 2 topic, 3 group,
/// 4 cluster, 5 transactional id; pattern 3 LITERAL, 4 PREFIXED; permission 2 DENY, 3 ALLOW;
/// operations as in Kafka's AclOperation).
public struct AclEntry: Sendable, Equatable, Hashable {
    public var resourceType: Int8
    public var resourceName: String
    public var patternType: Int8
    public var principal: String
    public var host: String
    public var operation: Int8
    public var permission: Int8

    public init(resourceType: Int8, resourceName: String, patternType: Int8, principal: String, host: String,
                operation: Int8, permission: Int8) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }
}

/// A DescribeAcls/DeleteAcls filter: nil name, principal or host match any; code 1 (ANY) matches
/// any type, pattern, operation or permission; pattern 2 (MATCH) selects what applies to the
/// named resource.
public struct AclEntryFilter: Sendable, Equatable {
    public var resourceType: Int8 = 1
    public var resourceName: String?
    public var patternType: Int8 = 1
    public var principal: String?
    public var host: String?
    public var operation: Int8 = 1
    public var permission: Int8 = 1

    public init(resourceType: Int8 = 1, resourceName: String? = nil, patternType: Int8 = 1, principal: String? = nil,
                host: String? = nil, operation: Int8 = 1, permission: Int8 = 1) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }
}

extension KafkaClient {
    /// CreateAcls, through the active controller. Throws the first refusal (CLUSTER_AUTHORIZATION_FAILED,
    /// INVALID_REQUEST, SECURITY_DISABLED) with the broker's message.
    public func createAcls(_ entries: [AclEntry]) async throws {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        try await withRetries {
            let (response, _) = try await send(.controller) { _ in
                var request = CreateAclsRequest()
                request.creations = entries.map {
                    .init(resourceType: $0.resourceType, resourceName: $0.resourceName, resourcePatternType: $0.patternType,
                          principal: $0.principal, host: $0.host, operation: $0.operation, permissionType: $0.permission)
                }
                return request
            }
            for result in response.results where result.errorCode != 0 {
                throw KafkaClientError.kafka(code: KafkaErrorCode(result.errorCode), message: result.errorMessage, context: "create ACLs")
            }
        }
    }

    /// DescribeAcls: the ACLs the filter selects, as any broker knows them.
    public func describeAcls(_ filter: AclEntryFilter) async throws -> [AclEntry] {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        return try await withRetries {
            let (response, _) = try await send(.any) { _ in
                var request = DescribeAclsRequest()
                request.resourceTypeFilter = filter.resourceType
                request.resourceNameFilter = filter.resourceName
                request.patternTypeFilter = filter.patternType
                request.principalFilter = filter.principal
                request.hostFilter = filter.host
                request.operation = filter.operation
                request.permissionType = filter.permission
                return request
            }
            guard response.errorCode == 0 else {
                throw KafkaClientError.kafka(code: KafkaErrorCode(response.errorCode), message: response.errorMessage, context: "describe ACLs")
            }
            return response.resources.flatMap { resource in
                resource.acls.map {
                    AclEntry(resourceType: resource.resourceType, resourceName: resource.resourceName, patternType: resource.patternType,
                             principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType)
                }
            }
        }
    }

    /// DeleteAcls, through the active controller: removes what the filters select and returns it.
    public func deleteAcls(_ filters: [AclEntryFilter]) async throws -> [AclEntry] {
        if metadata.brokers.isEmpty { _ = try? await refreshMetadata(topics: []) }
        return try await withRetries {
            let (response, _) = try await send(.controller) { _ in
                var request = DeleteAclsRequest()
                request.filters = filters.map {
                    .init(resourceTypeFilter: $0.resourceType, resourceNameFilter: $0.resourceName, patternTypeFilter: $0.patternType,
                          principalFilter: $0.principal, hostFilter: $0.host, operation: $0.operation, permissionType: $0.permission)
                }
                return request
            }
            var removed: [AclEntry] = []
            for result in response.filterResults {
                guard result.errorCode == 0 else {
                    throw KafkaClientError.kafka(code: KafkaErrorCode(result.errorCode), message: result.errorMessage, context: "delete ACLs")
                }
                removed += result.matchingAcls.map {
                    AclEntry(resourceType: $0.resourceType, resourceName: $0.resourceName, patternType: $0.patternType,
                             principal: $0.principal, host: $0.host, operation: $0.operation, permission: $0.permissionType)
                }
            }
            return removed
        }
    }
}
