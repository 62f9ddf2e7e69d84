import RunnelCore

extension MetadataImage {
    /// The ACLs that `filter` selects, in a stable order (by resource, then principal, host,
    /// operation, permission), with their ids.
    public func acls(matching filter: AclBindingFilter) -> [(id: TopicID, binding: AclBinding)] {
        acls.filter { filter.matches($0.value) }.map { (id: $0.key, binding: $0.value) }
            .sorted { Self.aclOrder($0.binding).lexicographicallyPrecedes(Self.aclOrder($1.binding)) }
    }

    static func aclOrder(_ b: AclBinding) -> [String] {
        [String(b.resourceType.rawValue), String(b.patternType.rawValue), b.resourceName, b.principal, b.host,
         String(b.operation.rawValue), String(b.permission.rawValue)]
    }
}

extension MetadataController {
    /// The records that add `bindings` (each already validated), with the ids the caller
    /// generated. A binding equal to a stored one is not added again (Kafka keeps one of each),
    /// nor is one repeated within the request.
    public func createAcls(_ bindings: [(id: TopicID, binding: AclBinding)],
                           in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        var present = Set(image.acls.values)
        var records: [MetadataRecord] = []
        for (id, binding) in bindings {
            if let reason = binding.invalidReason { return .failure(Refusal(.invalidRequest, reason)) }
            guard image.acls[id] == nil else { return .failure(Refusal(.unknownServerError, "ACL id \(id) is taken; retry.")) }
            guard present.insert(binding).inserted else { continue }
            records.append(.acl(id: id, binding: binding))
        }
        return .success(records)
    }

    /// The records that remove every ACL any of `filters` selects (each removed once).
    public func deleteAcls(matching filters: [AclBindingFilter], in image: MetadataImage) -> [MetadataRecord] {
        var removed = Set<TopicID>()
        var records: [MetadataRecord] = []
        for filter in filters {
            for (id, _) in image.acls(matching: filter) where removed.insert(id).inserted {
                records.append(.removeAcl(id: id))
            }
        }
        return records
    }
}
