import KafkaMessages
import KafkaWire
import NIOCore

func bufferFromHex(_ hex: String) -> ByteBuffer {
    let digits = Array(hex.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex length")
    var bytes = [UInt8]()
    bytes.reserveCapacity(digits.count / 2)
    var i = 0
    while i < digits.count {
        bytes.append(UInt8(String(digits[i]) + String(digits[i + 1]), radix: 16)!)
        i += 2
    }
    return ByteBuffer(bytes: bytes)
}

func hexString(_ buffer: ByteBuffer) -> String {
    buffer.readableBytesView.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// A request frame decoded the way the server will: peek, pick the header version from the API,
/// decode header and body.
struct DecodedRequest {
    var header: RequestHeader
    var apiKey: ApiKey
    var body: any KafkaRequest
    var headerVersion: Int16
    var bodyStart: Int
}

func decodeRequestFrame(_ frame: ByteBuffer) throws -> DecodedRequest {
    var buffer = frame
    let prefix = try RequestHeader.Prefix.peek(buffer)
    guard let apiKey = ApiKey(rawValue: prefix.apiKey) else {
        throw KafkaWireError(field: "RequestHeader", reason: "unknown api key \(prefix.apiKey)")
    }
    let headerVersion = apiKey.requestHeaderVersion(apiVersion: prefix.apiVersion)
    let header = try RequestHeader(from: &buffer, headerVersion: headerVersion)
    let bodyStart = buffer.readerIndex
    let body = try apiKey.requestType.init(from: &buffer, version: header.apiVersion)
    guard buffer.readableBytes == 0 else {
        throw KafkaWireError(field: apiKey.name, reason: "\(buffer.readableBytes) bytes left after the body")
    }
    return DecodedRequest(header: header, apiKey: apiKey, body: body, headerVersion: headerVersion, bodyStart: bodyStart)
}

func encodeRequestFrame(_ request: DecodedRequest) -> ByteBuffer {
    var out = ByteBuffer()
    request.header.encode(into: &out, headerVersion: request.headerVersion)
    request.body.encode(into: &out, version: request.header.apiVersion)
    return out
}
