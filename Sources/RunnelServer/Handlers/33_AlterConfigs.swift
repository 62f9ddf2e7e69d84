import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// AlterConfigs (key 33), versions 0-2: the older, whole-set form of IncrementalAlterConfigs
// (see 44_IncrementalAlterConfigs.swift for the rules). The keys given become the resource's
// complete set of dynamic configs; a key not given is removed, as in Kafka. A null value is
// INVALID_CONFIG naming the key.
extension Broker {
    func handleAlterConfigs(_ request: AlterConfigsRequest, _ context: RequestContext,
                            _ respond: Responder<AlterConfigsResponse>) {
        let resources = request.resources.map { resource in
            (type: resource.resourceType, name: resource.resourceName, changes: Self.wholeSet(resource.configs))
        }
        alterConfigResources(resources, replace: true, validateOnly: request.validateOnly) { results in
            var response = AlterConfigsResponse()
            response.responses = results.map {
                AlterConfigsResponse.AlterConfigsResourceResponse(
                    errorCode: $0.refusal?.code.rawValue ?? 0, errorMessage: $0.refusal?.message,
                    resourceType: $0.type, resourceName: $0.name)
            }
            respond.send(response)
        }
    }
}

extension Broker {
    /// The keys of one AlterConfigs resource as SET changes, or the refusal of a null value.
    static func wholeSet(_ configs: [AlterConfigsRequest.AlterableConfig]) -> Result<[(String, ConfigChange)], MetadataController.Refusal> {
        var changes: [(String, ConfigChange)] = []
        for config in configs {
            guard let value = config.value else {
                return .failure(.init(.invalidConfig, "Config '\(config.name)' has a null value; leave it out to remove it."))
            }
            changes.append((config.name, .set(value)))
        }
        return .success(changes)
    }
}
