public import NIOCore

/// The header that opens every request frame (after the 4-byte size; PROTOCOL.md §3):
///
///     v0  apiKey int16, apiVersion int16, correlationId int32
///     v1  v0 + clientId: nullable string with an int16 length (-1 = null)
///     v2  v1 + tagged fields (clientId stays non-compact)
///
/// Which header version a request uses follows from its API's flexible versions: flexible →
/// v2, otherwise v1 (`ApiKey.requestHeaderVersion(apiVersion:)` in KafkaMessages). Header v0 was
/// only used by ControlledShutdown v0, which Kafka 4.0 removed; it is decoded for completeness.
public struct RequestHeader: Equatable, Sendable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    /// Null when the client sends none (v1+).
    public var clientId: String?
    /// Tagged fields of a v2 header, kept verbatim (Kafka defines none for clients today).
    public var unknownTaggedFields: [KafkaTaggedField]

    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String? = nil,
                unknownTaggedFields: [KafkaTaggedField] = []) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// Decodes a header of `headerVersion` (0, 1 or 2) and leaves the reader at the body.
    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws {
        precondition((0...2).contains(headerVersion), "request header version \(headerVersion) does not exist")
        do {
            apiKey = try buffer.readKafkaInt16(field: "requestApiKey")
            apiVersion = try buffer.readKafkaInt16(field: "requestApiVersion")
            correlationId = try buffer.readKafkaInt32(field: "correlationId")
            clientId = headerVersion >= 1 ? try buffer.readKafkaNullableString(compact: false, field: "clientId") : nil
            unknownTaggedFields = []
            if headerVersion >= 2 {
                let count = try buffer.readKafkaTaggedFieldCount(field: "taggedFields")
                for _ in 0..<count {
                    let (tag, data) = try buffer.readKafkaTaggedField(field: "taggedFields")
                    unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: data))
                }
            }
        } catch let error as KafkaWireError {
            throw error.inside("RequestHeader")
        }
    }

    public func encode(into buffer: inout ByteBuffer, headerVersion: Int16) {
        precondition((0...2).contains(headerVersion), "request header version \(headerVersion) does not exist")
        buffer.writeInteger(apiKey)
        buffer.writeInteger(apiVersion)
        buffer.writeInteger(correlationId)
        if headerVersion >= 1 { buffer.writeKafkaNullableString(clientId, compact: false) }
        if headerVersion >= 2 { buffer.writeKafkaTaggedFields(unknownTaggedFields) }
    }

    /// The first 8 bytes of a request frame body, read without moving the reader index: enough
    /// to route the request, to answer an unsupported ApiVersions version with error 35, or to
    /// log the correlation id of a request that is then refused (the connection is closed).
    public struct Prefix: Equatable, Sendable {
        public var apiKey: Int16
        public var apiVersion: Int16
        public var correlationId: Int32

        public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32) {
            self.apiKey = apiKey
            self.apiVersion = apiVersion
            self.correlationId = correlationId
        }

        /// Peeks at `frame` (the bytes after the 4-byte size) without consuming anything.
        public static func peek(_ frame: ByteBuffer) throws -> Prefix {
            let at = frame.readerIndex
            guard frame.readableBytes >= 8,
                  let apiKey = frame.getInteger(at: at, as: Int16.self),
                  let apiVersion = frame.getInteger(at: at + 2, as: Int16.self),
                  let correlationId = frame.getInteger(at: at + 4, as: Int32.self) else {
                throw KafkaWireError(field: "RequestHeader",
                                     reason: "frame of \(frame.readableBytes) bytes is shorter than the 8-byte header prefix")
            }
            return Prefix(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId)
        }
    }
}

/// The header that opens every response frame:
///
///     v0  correlationId int32
///     v1  v0 + tagged fields
///
/// Flexible API versions use v1, others v0, EXCEPT ApiVersions, whose response always uses v0
/// (KIP-511: a client that does not yet know the broker's versions must be able to parse it).
public struct ResponseHeader: Equatable, Sendable {
    public var correlationId: Int32
    public var unknownTaggedFields: [KafkaTaggedField]

    public init(correlationId: Int32, unknownTaggedFields: [KafkaTaggedField] = []) {
        self.correlationId = correlationId
        self.unknownTaggedFields = unknownTaggedFields
    }

    public init(from buffer: inout ByteBuffer, headerVersion: Int16) throws {
        precondition((0...1).contains(headerVersion), "response header version \(headerVersion) does not exist")
        do {
            correlationId = try buffer.readKafkaInt32(field: "correlationId")
            unknownTaggedFields = []
            if headerVersion >= 1 {
                let count = try buffer.readKafkaTaggedFieldCount(field: "taggedFields")
                for _ in 0..<count {
                    let (tag, data) = try buffer.readKafkaTaggedField(field: "taggedFields")
                    unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: data))
                }
            }
        } catch let error as KafkaWireError {
            throw error.inside("ResponseHeader")
        }
    }

    public func encode(into buffer: inout ByteBuffer, headerVersion: Int16) {
        precondition((0...1).contains(headerVersion), "response header version \(headerVersion) does not exist")
        buffer.writeInteger(correlationId)
        if headerVersion >= 1 { buffer.writeKafkaTaggedFields(unknownTaggedFields) }
    }
}
