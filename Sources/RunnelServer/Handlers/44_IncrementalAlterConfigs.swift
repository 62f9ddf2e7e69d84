import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// IncrementalAlterConfigs (key 44), versions 0-1, and the logic AlterConfigs (key 33) shares.
// Resources: TOPIC (2) and BROKER (4: a broker id, or "" for the cluster-wide default). Each
// change becomes records of the metadata log (`MetadataController.setConfigs`), so every broker
// applies it and it survives restarts; the active controller decides (RequestRouter forwards).
// Per resource: an unknown topic → UNKNOWN_TOPIC_OR_PARTITION; an unknown key or a bad value →
// INVALID_CONFIG naming the key, the value and what is allowed; a broker key that cannot change
// at run time → INVALID_REQUEST naming it; a resource named twice → INVALID_REQUEST.
// validate_only checks everything and changes nothing.

/// One requested change of one key.
enum ConfigChange: Equatable, Sendable {
    case set(String)
    case delete
    /// Adds the items to a list key (IncrementalAlterConfigs APPEND).
    case append(String)
    /// Removes the items from a list key (IncrementalAlterConfigs SUBTRACT).
    case subtract(String)
}

/// The pure part of AlterConfigs/IncrementalAlterConfigs: which dynamic configs a resource ends
/// up with, or why the request is refused. `replace` (AlterConfigs) makes the named keys the
/// whole set; otherwise (IncrementalAlterConfigs) the changes apply to the current set.
enum ConfigAlteration {
    /// Broker keys that may change at run time (per broker or cluster-wide), as Kafka's
    /// DynamicLogConfig allows: the primary broker synonym of every topic key (log.retention.ms,
    /// log.segment.bytes, message.max.bytes, min.insync.replicas, unclean.leader.election.enable, …),
    /// minus log.message.format.version, and of Kafka's cleaner group the cleaner's I/O budget
    /// (`log.cleaner.io.max.bytes.per.second`). Runnel has none of Kafka's other dynamic groups
    /// (thread pools, listeners, TLS), so every other broker key is static.
    static let dynamicBrokerKeys: Set<String> = Set(
        TopicKeys.all.compactMap(\.synonyms.first?.name).filter { BrokerKeys.byName[$0] != nil })
        .subtracting(["log.message.format.version"])
        .union(["log.cleaner.io.max.bytes.per.second"])

    static func target(_ resource: ConfigResource, current: [String: String], changes: [(String, ConfigChange)],
                       replace: Bool, broker config: BrokerConfig) -> Result<[String: String], MetadataController.Refusal> {
        var seen = Set<String>()
        for (key, _) in changes where !seen.insert(key).inserted {
            return .failure(.init(.invalidRequest, "Config '\(key)' appears more than once for \(resource)."))
        }
        var target = replace ? [:] : current
        for (key, change) in changes {
            let kind: ConfigKind
            switch resource {
            case .topic:
                guard let entry = TopicKeys.byName[key] else {
                    return .failure(.init(.invalidConfig, "Unknown topic config '\(key)'; Runnel accepts Kafka's topic configs: \(TopicKeys.all.map(\.key.name).sorted().joined(separator: ", "))."))
                }
                kind = entry.key.kind
            case .broker:
                guard let brokerKey = BrokerKeys.byName[key] else {
                    return .failure(.init(.invalidConfig, "Unknown broker config '\(key)'."))
                }
                guard dynamicBrokerKeys.contains(key) else {
                    return .failure(.init(.invalidRequest, "Cannot update broker config '\(key)' dynamically; the keys that can change at run time are: \(dynamicBrokerKeys.sorted().joined(separator: ", "))."))
                }
                kind = brokerKey.kind
            }
            switch change {
            case .set(let value):
                target[key] = value
            case .delete:
                target[key] = nil
            case .append(let items), .subtract(let items):
                guard kind.isList else {
                    return .failure(.init(.invalidConfig, "Config '\(key)' is not a list, so it cannot be appended to or subtracted from; use SET."))
                }
                let effective = target[key] ?? (resource.isTopic ? LogConfigs.effective(key, overrides: [:], broker: config) : config.string(key)) ?? ""
                var list = effective.splitList()
                let given = items.splitList()
                if case .append = change {
                    list += given.filter { !list.contains($0) }
                } else {
                    list.removeAll { given.contains($0) }
                }
                target[key] = list.joined(separator: ",")
            }
        }
        // Values: the same checks as at CreateTopics (topic) or at start-up (broker).
        switch resource {
        case .topic:
            switch LogConfigs.validateTopicOverrides(target.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, broker: config) {
            case .success(let normalized): return .success(normalized)
            case .failure(let error): return .failure(.init(.invalidConfig, error.message))
            }
        case .broker:
            var normalized: [String: String] = [:]
            for (key, value) in target.sorted(by: { $0.key < $1.key }) {
                do {
                    normalized[key] = try BrokerKeys.byName[key]!.validate(value)
                } catch {
                    return .failure(.init(.invalidConfig, error.message))
                }
            }
            return .success(normalized)
        }
    }

    /// The resource a request names, or why it cannot be altered.
    static func resource(type: Int8, name: String) -> Result<ConfigResource, MetadataController.Refusal> {
        switch type {
        case 2:
            return .success(.topic(TopicName(name)))
        case 4:
            if name.isEmpty { return .success(.broker(nil)) }
            guard let id = Int32(name), id >= 0 else {
                return .failure(.init(.invalidRequest, "Broker resource '\(name)' is not a broker id (or empty for the cluster-wide default)."))
            }
            return .success(.broker(BrokerID(id)))
        default:
            return .failure(.init(.invalidRequest, "Resource type \(type) is not supported (only TOPIC 2 and BROKER 4)."))
        }
    }
}

extension ConfigResource {
    var isTopic: Bool { if case .topic = self { return true } else { return false } }
}

extension ConfigKind {
    var isList: Bool {
        switch self {
        case .list, .choiceList, .replicaList: return true
        default: return false
        }
    }
}

extension Broker {
    /// Alters one resource through the controller: the decision is taken against the controller's
    /// latest image, so two concurrent changes of one resource both apply. Completes on the owner
    /// loop, after commit (and after this node applied the records), with nil or the refusal.
    func alterConfigs(_ resource: ConfigResource, changes: [(String, ConfigChange)], replace: Bool, validateOnly: Bool,
                      completion: @escaping (MetadataController.Refusal?) -> Void) {
        let config = self.config
        controlPlane.submit({ controller, latest in
            guard let current = latest.configs(of: resource) else {
                return .failure(.init(.unknownTopicOrPartition, "Topic '\(resource.name)' does not exist."))
            }
            switch ConfigAlteration.target(resource, current: current, changes: changes, replace: replace, broker: config) {
            case .failure(let refusal):
                return .failure(refusal)
            case .success(let target):
                let decision = controller.setConfigs(resource, to: target, in: latest)
                if validateOnly, case .success = decision { return .success([]) }
                return decision
            }
        }) { [self] result in
            switch result {
            case .failure(let refusal):
                completion(refusal)
            case .success:
                if !validateOnly {
                    logger.info("altered configs of \(resource): \(changes.map { "\($0.0)\($0.1.logText)" }.joined(separator: ", "))")
                }
                completion(nil)
            }
        }
    }

    /// Runs each resource of an (Incremental)AlterConfigs request in order; a resource named
    /// twice is refused both times, as Kafka does.
    func alterConfigResources(_ resources: [(type: Int8, name: String, changes: Result<[(String, ConfigChange)], MetadataController.Refusal>)],
                              replace: Bool, validateOnly: Bool,
                              done: @escaping ([(type: Int8, name: String, refusal: MetadataController.Refusal?)]) -> Void) {
        var results: [(type: Int8, name: String, refusal: MetadataController.Refusal?)] = []
        var seen: [String: Int] = [:]
        for r in resources { seen["\(r.type)/\(r.name)", default: 0] += 1 }
        forEachInOrder(resources, { item, next in
            func finish(_ refusal: MetadataController.Refusal?) {
                results.append((item.type, item.name, refusal))
                next()
            }
            guard seen["\(item.type)/\(item.name)"]! == 1 else {
                return finish(.init(.invalidRequest, "Resource '\(item.name)' of type \(item.type) appears more than once in the request."))
            }
            let resource: ConfigResource
            switch ConfigAlteration.resource(type: item.type, name: item.name) {
            case .failure(let refusal): return finish(refusal)
            case .success(let r): resource = r
            }
            switch item.changes {
            case .failure(let refusal): finish(refusal)
            case .success(let changes):
                self.alterConfigs(resource, changes: changes, replace: replace, validateOnly: validateOnly, completion: finish)
            }
        }, done: { done(results) })
    }

    func handleIncrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest, _ context: RequestContext,
                                       _ respond: Responder<IncrementalAlterConfigsResponse>) {
        let resources = request.resources.map { resource in
            (type: resource.resourceType, name: resource.resourceName, changes: Self.incrementalChanges(resource.configs))
        }
        alterConfigResources(resources, replace: false, validateOnly: request.validateOnly) { results in
            var response = IncrementalAlterConfigsResponse()
            response.responses = results.map {
                IncrementalAlterConfigsResponse.AlterConfigsResourceResponse(
                    errorCode: $0.refusal?.code.rawValue ?? 0, errorMessage: $0.refusal?.message,
                    resourceType: $0.type, resourceName: $0.name)
            }
            respond.send(response)
        }
    }
}

extension Broker {
    /// The changes of one IncrementalAlterConfigs resource, or the refusal of the first bad one.
    static func incrementalChanges(_ configs: [IncrementalAlterConfigsRequest.AlterableConfig])
        -> Result<[(String, ConfigChange)], MetadataController.Refusal> {
        var changes: [(String, ConfigChange)] = []
        for config in configs {
            switch config.configOperation {
            case 0:
                guard let value = config.value else {
                    return .failure(.init(.invalidConfig, "Config '\(config.name)' has a null value; use DELETE to remove it."))
                }
                changes.append((config.name, .set(value)))
            case 1: changes.append((config.name, .delete))
            case 2: changes.append((config.name, .append(config.value ?? "")))
            case 3: changes.append((config.name, .subtract(config.value ?? "")))
            case let op:
                return .failure(.init(.invalidRequest, "Unknown config operation \(op) for '\(config.name)' (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT)."))
            }
        }
        return .success(changes)
    }
}

extension ConfigChange {
    var logText: String {
        switch self {
        case .set(let v): return "=\(v)"
        case .delete: return " deleted"
        case .append(let v): return "+=\(v)"
        case .subtract(let v): return "-=\(v)"
        }
    }
}
