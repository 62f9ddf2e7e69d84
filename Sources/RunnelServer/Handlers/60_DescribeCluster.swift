import ClusterMetadata
import KafkaMessages
import RunnelCore

// DescribeCluster (key 60), versions 0-2, answered by any broker from its metadata image: the
// cluster id, the active controller as this broker knows it (-1 when none is known), and the
// unfenced brokers with host, port and rack at the listener clients use (the same brokers and
// addresses as Metadata). v2 (KIP-1073) lists fenced brokers too when asked, marked IsFenced.
// The cluster's authorized operations are filled only when asked for (Int32.min otherwise, the
// schema default), from `authorizer` (D31, D51).
// - v1+: an EndpointType other than 1 (brokers) is MISMATCHED_ENDPOINT_TYPE: Runnel's client
//   listeners are broker endpoints, and the CONTROLLER listener does not serve this API.
extension Broker {
    static let mismatchedEndpointType: Int16 = 114

    func handleDescribeCluster(_ request: DescribeClusterRequest, _ context: RequestContext,
                               _ respond: Responder<DescribeClusterResponse>) {
        var response = DescribeClusterResponse()
        if context.version >= 1 && request.endpointType != 1 {
            response.errorCode = Self.mismatchedEndpointType
            response.errorMessage = "The request was sent to a broker endpoint (1), but asked for endpoint type \(request.endpointType)."
            return respond.send(response)
        }
        response.clusterId = clusterID
        response.controllerId = controlPlane.activeControllerID?.rawValue ?? -1
        let includeFenced = context.version >= 2 && request.includeFencedBrokers
        var ids = Set(includeFenced ? Array(image.brokers.keys) : image.unfencedBrokers)
        ids.insert(nodeID)  // this broker, as Metadata lists it: it answers, so it serves
        response.brokers = ids.sorted().compactMap { id in
            guard let endpoint = endpoint(of: id, listener: context.connection.listenerName) else { return nil }
            var broker = DescribeClusterResponse.DescribeClusterBroker()
            broker.brokerId = id.rawValue
            broker.host = endpoint.host
            broker.port = endpoint.port
            broker.rack = image.broker(id)?.rack ?? (id == nodeID ? config.string("broker.rack").flatMap { $0.isEmpty ? nil : $0 } : nil)
            broker.isFenced = image.broker(id)?.fenced ?? false
            return broker
        }
        if request.includeClusterAuthorizedOperations {
            response.clusterAuthorizedOperations = authorizer.authorizedOperations(.cluster, name: "kafka-cluster", context: context)
        }
        respond.send(response)
    }
}
