import RunnelCore

/// What a config change applies to: a topic, one broker, or every broker (the cluster-wide
/// dynamic default, Kafka's empty broker name).
public enum ConfigResource: Hashable, Sendable, CustomStringConvertible {
    case topic(TopicName)
    /// A broker id, or nil for the cluster-wide default.
    case broker(BrokerID?)

    /// The resource name in the metadata record and on the wire.
    public var name: String {
        switch self {
        case .topic(let t): return t.rawValue
        case .broker(let id): return id.map { String($0.rawValue) } ?? ""
        }
    }

    public var description: String {
        switch self {
        case .topic(let t): return "topic \(t)"
        case .broker(let id): return id.map { "broker \($0)" } ?? "the broker defaults"
        }
    }
}

extension MetadataImage {
    /// The dynamic configs stored for `resource` (a topic's overrides, a broker's dynamic keys),
    /// or nil for a topic that does not exist.
    public func configs(of resource: ConfigResource) -> [String: String]? {
        switch resource {
        case .topic(let name): return topic(name)?.configs
        case .broker: return brokerConfigs[resource.name] ?? [:]
        }
    }
}

extension MetadataController {
    /// The records that make the dynamic configs of `resource` equal `target` (the caller has
    /// validated every key and value): one record per key that changes, sorted by key, none when
    /// nothing changes. An unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
    public func setConfigs(_ resource: ConfigResource, to target: [String: String],
                           in image: MetadataImage) -> Result<[MetadataRecord], Refusal> {
        guard let current = image.configs(of: resource) else {
            return .failure(Refusal(KafkaErrorCode.unknownTopicOrPartition, "Topic '\(resource.name)' does not exist."))
        }
        let keys = Set(current.keys).union(target.keys).sorted()
        var records: [MetadataRecord] = []
        for key in keys where current[key] != target[key] {
            switch resource {
            case .topic(let name): records.append(.config(topic: name, key: key, value: target[key]))
            case .broker: records.append(.brokerConfig(resourceName: resource.name, key: key, value: target[key]))
            }
        }
        return .success(records)
    }
}
