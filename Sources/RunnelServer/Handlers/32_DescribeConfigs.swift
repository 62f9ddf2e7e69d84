import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// DescribeConfigs (key 32), versions 0-4. Resource types TOPIC (2) and BROKER (4; name = this
// node's id, or "" for the cluster-wide dynamic defaults, which lists only the keys set there, as
// Kafka does). Every key has a value, except the TLS keys Kafka types as PASSWORD
// (`SSLKeys.sensitive`: isSensitive, no value, type PASSWORD 9), with its source (v1+: TOPIC_CONFIG 1
// for a topic override, DYNAMIC_BROKER_CONFIG 2 and DYNAMIC_DEFAULT_BROKER_CONFIG 3 for keys set
// by AlterConfigs, STATIC_BROKER_CONFIG 4 for an explicitly set broker key, DEFAULT_CONFIG 5);
// a broker key is read-only unless it can change at run time,
// synonyms (v1+, when asked), config types and documentation (v3+). A subset of keys may be
// asked for. Other resource types → INVALID_REQUEST; unknown topic → UNKNOWN_TOPIC_OR_PARTITION.
extension Broker {
    struct DescribedConfig {
        var name: String
        var value: String?
        var source: Int8
        var synonyms: [(name: String, value: String?, source: Int8)]
        var type: Int8
        var doc: String
    }

    enum ConfigSource {
        static let topic: Int8 = 1
        static let dynamicBroker: Int8 = 2
        static let dynamicDefault: Int8 = 3
        static let staticBroker: Int8 = 4
        static let defaultValue: Int8 = 5
    }

    func handleDescribeConfigs(_ request: DescribeConfigsRequest, _ context: RequestContext,
                               _ respond: Responder<DescribeConfigsResponse>) {
        var response = DescribeConfigsResponse()
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult()
            result.resourceType = resource.resourceType
            result.resourceName = resource.resourceName
            result.errorMessage = nil
            if let refused = mayConfigure(.describeConfigs, type: resource.resourceType, name: resource.resourceName, context) {
                result.errorCode = refused.rawValue
                result.errorMessage = Self.authorizationFailed
                response.results.append(result)
                continue
            }
            let described: [DescribedConfig]
            switch resource.resourceType {
            case 2:
                guard let topic = image.topic(TopicName(resource.resourceName)) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "Topic '\(resource.resourceName)' does not exist."
                    response.results.append(result)
                    continue
                }
                described = describeTopicConfigs(overrides: topic.configs)
            case 4:
                guard resource.resourceName.isEmpty || resource.resourceName == String(nodeID.rawValue) else {
                    result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    result.errorMessage = "Broker '\(resource.resourceName)' is not this node (\(nodeID))."
                    response.results.append(result)
                    continue
                }
                described = resource.resourceName.isEmpty ? describeDynamicDefaults() : describeBrokerConfigs()
            default:
                result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                result.errorMessage = "Resource type \(resource.resourceType) is not supported (only TOPIC 2 and BROKER 4)."
                response.results.append(result)
                continue
            }
            let wanted = resource.configurationKeys.map(Set.init)
            result.configs = described.filter { wanted?.contains($0.name) ?? true }.map { c in
                var out = DescribeConfigsResponse.DescribeConfigsResourceResult()
                out.name = c.name
                out.value = c.value
                out.isSensitive = c.type == Self.passwordType
                out.readOnly = resource.resourceType == 4 && !ConfigAlteration.dynamicBrokerKeys.contains(c.name)
                out.isDefault = c.source == ConfigSource.defaultValue
                out.configSource = c.source
                out.configType = c.type
                out.documentation = request.includeDocumentation ? c.doc : nil
                if request.includeSynonyms {
                    out.synonyms = c.synonyms.map {
                        DescribeConfigsResponse.DescribeConfigsSynonym(name: $0.name, value: $0.value, source: $0.source)
                    }
                }
                return out
            }
            response.results.append(result)
        }
        respond.send(response)
    }

    /// Every topic key with its effective value. Synonyms, Kafka's order: the topic override
    /// (TOPIC_CONFIG), then the broker synonyms that are set (STATIC_BROKER_CONFIG), then those
    /// that have a default (DEFAULT_CONFIG); the source is the first synonym's. A key without a
    /// broker synonym reports its own default with no synonyms, as Kafka does.
    func describeTopicConfigs(overrides: [String: String]) -> [DescribedConfig] {
        TopicKeys.all.map { entry in
            let name = entry.key.name
            var synonyms = brokerSynonyms(entry.synonyms)
            if let v = overrides[name] { synonyms.insert((name, v, ConfigSource.topic), at: 0) }
            let value = LogConfigs.effective(name, overrides: overrides, broker: config)
            return DescribedConfig(name: name, value: value, source: synonyms.first?.source ?? ConfigSource.defaultValue,
                                   synonyms: synonyms, type: Self.configType(entry.key.kind),
                                   doc: entry.inEffect ? entry.key.doc : "Accepted, not yet in effect in Runnel. " + entry.key.doc)
        }
    }

    /// Every broker key with its value. A key without a value of its own reports the one it
    /// falls back to (log.retention.ms → minutes → hours; see `BrokerKeys.synonymGroups`),
    /// converted to its unit, with those keys as synonyms.
    func describeBrokerConfigs() -> [DescribedConfig] {
        BrokerKeys.all.map { key in
            let chain = BrokerKeys.chain(of: key.name)
            var synonyms = brokerSynonyms(chain)
            var value = config.resolve(chain, msPerUnit: chain[0].msPerUnit)
            var type = Self.configType(key.kind)
            if SSLKeys.sensitive.contains(key.name) {
                // Never sent: a key's passphrase or the key itself.
                value = nil
                synonyms = synonyms.map { ($0.name, nil, $0.source) }
                type = Self.passwordType
            }
            return DescribedConfig(name: key.name, value: value, source: synonyms.first?.source ?? ConfigSource.defaultValue,
                                   synonyms: synonyms, type: type, doc: key.doc)
        }
    }

    /// The cluster-wide dynamic defaults (the empty broker name): only the keys set there.
    func describeDynamicDefaults() -> [DescribedConfig] {
        config.dynamicDefaults.keys.sorted().compactMap { name in
            guard let key = BrokerKeys.byName[name] else { return nil }
            let value = config.dynamicDefaults[name]
            return DescribedConfig(name: name, value: value, source: ConfigSource.dynamicDefault,
                                   synonyms: [(name, value, ConfigSource.dynamicDefault)], type: Self.configType(key.kind), doc: key.doc)
        }
    }

    func brokerSynonyms(_ chain: [BrokerSynonym]) -> [(name: String, value: String?, source: Int8)] {
        config.synonymValues(chain).map { ($0.synonym.name, $0.value, Self.sourceCode($0.source)) }
    }

    /// Kafka's ConfigSource code of a broker value.
    static func sourceCode(_ source: BrokerConfig.Source) -> Int8 {
        switch source {
        case .dynamicBroker: return ConfigSource.dynamicBroker
        case .dynamicDefault: return ConfigSource.dynamicDefault
        case .defaultValue: return ConfigSource.defaultValue
        case .file, .environment, .override: return ConfigSource.staticBroker
        }
    }

    /// Kafka's ConfigType PASSWORD.
    static let passwordType: Int8 = 9

    /// Kafka's ConfigType codes: BOOLEAN 1, STRING 2, INT 3, LONG 5, DOUBLE 6, LIST 7. An integer
    /// key whose range fits 32 bits is Kafka's INT.
    static func configType(_ kind: ConfigKind) -> Int8 {
        switch kind {
        case .bool: return 1
        case .int(let range): return range.upperBound <= Int64(Int32.max) && range.lowerBound >= Int64(Int32.min) ? 3 : 5
        case .intIn: return 3
        case .double: return 6
        case .list, .choiceList, .listeners, .replicaList: return 7
        case .string, .choice, .kafkaVersion: return 2
        }
    }
}
