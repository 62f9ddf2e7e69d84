import KafkaWire
import Logging
import NIOCore
import NIOEmbedded
import RunnelTesting
import Testing
@testable import RunnelServer

/// A dispatcher whose requests complete when the test says so.
final class ManualDispatcher: RequestDispatcher {
    var pending: [(frame: ByteBuffer, completion: (DispatchResult) -> Void)] = []
    func dispatch(frame: ByteBuffer, connection: ConnectionInfo, completion: @escaping (DispatchResult) -> Void) {
        pending.append((frame, completion))
    }
}

@Suite struct FramingTests {
    func makeChannel(dispatcher: ManualDispatcher, frameBytesMax: Int = 1024, inFlightMax: Int = 8) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(.requests, frameBytesMax: frameBytesMax)))
        try channel.pipeline.syncOperations.addHandler(
            KafkaConnectionHandler(dispatcher: dispatcher, info: ConnectionInfo(id: 1, remote: "test"),
                                   logger: LogCapture().logger, inFlightMax: inFlightMax))
        // An EmbeddedChannel is inactive until connected; connect so "closed" is observable.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        #expect(channel.isActive)
        return channel
    }

    func frame(_ body: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(Int32(body.count))
        b.writeBytes(body)
        return b
    }

    func response(_ tag: UInt8) -> DispatchResult {
        .respond(ByteBuffer(bytes: [tag]))
    }

    @Test func framesSplitAcrossReadsAndPipelinedFramesAreDelivered() throws {
        let d = ManualDispatcher()
        let channel = try makeChannel(dispatcher: d)
        var two = frame(Array(repeating: 1, count: 8))
        var second = frame(Array(repeating: 2, count: 9))
        two.writeBuffer(&second)
        // Deliver byte by byte: nothing is dispatched until a frame is whole.
        while let byte = two.readSlice(length: 1) {
            try channel.writeInbound(byte)
        }
        #expect(d.pending.map(\.frame.readableBytes) == [8, 9])
        _ = try channel.finish()
    }

    @Test func responsesAreWrittenInRequestOrder() throws {
        let d = ManualDispatcher()
        let channel = try makeChannel(dispatcher: d)
        for i in 0..<3 { try channel.writeInbound(frame(Array(repeating: UInt8(i), count: 8))) }
        d.pending[2].completion(response(2))
        d.pending[1].completion(.noResponse)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)   // request 0 still open
        d.pending[0].completion(response(0))
        var written: [UInt8] = []
        while var out = try channel.readOutbound(as: ByteBuffer.self) { written += out.readBytes(length: out.readableBytes)! }
        // size prefix 1, byte 0, size prefix 1, byte 2; nothing for the acks=0 request.
        #expect(written == [0, 0, 0, 1, 0, 0, 0, 0, 1, 2])
        _ = try channel.finish()
    }

    @Test func anOversizedFrameClosesTheConnectionBeforeItsBytesArrive() throws {
        let d = ManualDispatcher()
        let channel = try makeChannel(dispatcher: d, frameBytesMax: 1024)
        var prefix = ByteBuffer()
        prefix.writeInteger(Int32(0x7fff_ffff))
        _ = try? channel.writeInbound(prefix)
        #expect(d.pending.isEmpty)
        #expect(!channel.isActive)
    }

    @Test(arguments: [Int32(-1), Int32(0), Int32(7)])
    func impossibleSizesCloseTheConnection(size: Int32) throws {
        let d = ManualDispatcher()
        let channel = try makeChannel(dispatcher: d)
        var prefix = ByteBuffer()
        prefix.writeInteger(size)
        prefix.writeBytes([UInt8](repeating: 0, count: 8))
        _ = try? channel.writeInbound(prefix)
        #expect(d.pending.isEmpty)
        #expect(!channel.isActive)
    }

    @Test func aCloseResultClosesAfterEarlierResponses() throws {
        let d = ManualDispatcher()
        let channel = try makeChannel(dispatcher: d)
        try channel.writeInbound(frame(Array(repeating: 0, count: 8)))
        try channel.writeInbound(frame(Array(repeating: 1, count: 8)))
        d.pending[1].completion(.close(reason: "test"))
        #expect(channel.isActive)
        d.pending[0].completion(response(7))
        var out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(out.readInteger(as: Int32.self) == 1)
        #expect(!channel.isActive)
    }
}
