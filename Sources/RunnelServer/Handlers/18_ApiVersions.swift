import ClusterMetadata
import KafkaMessages
import KafkaWire
import LogStorage
import Logging
import NIOCore
import NIOPosix
import RunnelCore

// ApiVersions (key 18), versions 0-4. Lists ApiSupport.advertised. The response header is
// always v0 (KIP-511; ApiKey.responseHeaderVersion applies that). v3+ carries the client's
// software name and version, which must match Kafka's pattern or get INVALID_REQUEST (42).
// Not implemented: the feature tags (SupportedFeatures, FinalizedFeatures): omitted, as the
// tagged fields allow.
extension Broker {
    func handleApiVersions(_ request: ApiVersionsRequest, _ context: RequestContext,
                           _ respond: Responder<ApiVersionsResponse>) {
        var response = ApiVersionsResponse()
        response.apiKeys = ApiSupport.advertised.map {
            ApiVersionsResponse.ApiVersion(apiKey: $0.apiKey, minVersion: $0.min, maxVersion: $0.max)
        }
        if context.version >= 3,
           !Self.validSoftwareToken(request.clientSoftwareName) || !Self.validSoftwareToken(request.clientSoftwareVersion) {
            response.errorCode = KafkaErrorCode.invalidRequest.rawValue
        }
        respond.send(response)
    }

    /// Kafka's rule for client software name/version: `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
    static func validSoftwareToken(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
        return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == 0x2D || $0 == 0x2E }
    }
}
