public import Compaction
import KafkaWire
import NIOCore
public import RunnelCore

// One clean of a compacted log (docs/decisions.md D145, D149), on the calling thread: the offset
// map over the dirty range, then every group of sealed segments below the first uncleanable
// offset rewritten with what `RecordRetention.plan` keeps and swapped in crash-safely
// (`replaceSegments`). The cleaner threads, their I/O budget and the checkpoint file come later;
// the caller passes the range (`CleanerSelection.cleanableRange`) and persists the returned
// checkpoint.

extension PartitionLog {
    public struct CleanResult: Sendable, Equatable {
        /// The next clean's first dirty offset (the `cleaner-offset-checkpoint` entry).
        public var checkpoint: Offset
        public var groupsRewritten: Int
        public var batchesDropped: Int
        public var bytesBefore: Int
        public var bytesAfter: Int
    }

    /// The log as `CleanerSelection` sees it: segment sizes, offsets and timestamps.
    public func cleanerInput(name: String, highWatermark: Offset, checkpoint: Offset?,
                             config: CompactionConfig) -> LogToCleanInput {
        let summaries = segments.map { segment in
            SegmentSummary(baseOffset: segment.baseOffset.rawValue, endOffset: segment.nextOffset.rawValue,
                           sizeBytes: Int64(segment.sizeBytes),
                           firstBatchTimestamp: segment.header(at: 0).map(\.maxTimestamp),
                           largestTimestamp: segment.maxTimestampSoFar.rawValue)
        }
        return LogToCleanInput(name: name, segments: summaries, logStartOffset: logStartOffset.rawValue,
                               highWatermark: highWatermark.rawValue, checkpoint: checkpoint?.rawValue, config: config)
    }

    /// Cleans the sealed segments below `range.firstUncleanableOffset` at `nowMs`.
    /// `producerLastOffsets`: for each producer id still in the producer-state window, the last
    /// offset of its last batch. `maxKeys` bounds the offset map.
    public func clean(_ range: CleanableRange, nowMs: Int64, deleteRetentionMs: Int64,
                      producerLastOffsets: [Int64: Int64], maxKeys: Int = Int.max) throws(StorageError) -> CleanResult {
        try checkWritable()
        let end = Offset(range.firstUncleanableOffset)
        let sealed = Array(segments.dropLast().filter { $0.nextOffset <= end })
        let decoded = try sealed.map { (segment) throws(StorageError) in try Self.decodeBatches(of: segment) }
        let map = OffsetMap.build(segments: decoded.map { $0.map(\.summary) }, from: range.firstDirtyOffset,
                                  to: range.firstUncleanableOffset, maxKeys: maxKeys)
        var result = CleanResult(checkpoint: Offset(max(map.latestOffset + 1, range.firstDirtyOffset)), groupsRewritten: 0,
                                 batchesDropped: 0, bytesBefore: 0, bytesAfter: 0)
        // Only segments the map fully covers are rewritten (a clean judges no record past it).
        var index = 0
        while index < sealed.count, sealed[index].nextOffset.rawValue <= map.latestOffset + 1 {
            // A group: consecutive segments whose sizes sum to at most segment.bytes.
            var count = 1
            var bytes = sealed[index].sizeBytes
            while index + count < sealed.count, sealed[index + count].nextOffset.rawValue <= map.latestOffset + 1,
                  bytes + sealed[index + count].sizeBytes <= config.segmentBytes {
                bytes += sealed[index + count].sizeBytes
                count += 1
            }
            var output: [[UInt8]] = []
            var changed = false
            for batch in decoded[index..<index + count].joined() {
                let plan = RecordRetention.plan(batch.summary, map: map, nowMs: nowMs, deleteRetentionMs: deleteRetentionMs,
                                                producerLastOffsets: producerLastOffsets)
                switch plan.action {
                case .copy:
                    output.append(batch.bytes)
                case .drop:
                    changed = true
                    result.batchesDropped += 1
                case .rewrite, .retainEmpty:
                    changed = true
                    let kept = Set(plan.kept)
                    let records = batch.decoded.records.filter { kept.contains($0.offset.rawValue) }
                    let rewritten = RecordBatchRewriter.rewrite(batch.decoded, keeping: records,
                                                                deleteHorizonMs: plan.deleteHorizonMs)
                    output.append(Array(rewritten.readableBytesView))
                }
            }
            result.bytesBefore += bytes
            result.bytesAfter += changed ? output.reduce(0) { $0 + $1.count } : bytes
            if changed {
                try replaceSegments(from: sealed[index].baseOffset, count: count, with: output)
                result.groupsRewritten += 1
            }
            index += count
        }
        return result
    }

    /// One stored batch: its bytes, its decoded records and the cleaner's summary of it.
    struct CleanerBatch {
        var bytes: [UInt8]
        var decoded: DecodedBatch
        var summary: BatchSummary
    }

    static func decodeBatches(of segment: LogSegment) throws(StorageError) -> [CleanerBatch] {
        var batches: [CleanerBatch] = []
        var position = 0
        while case .batch(let header) = segment.batch(at: position) {
            let bytes = Array(segment.bytes(position ..< position + header.totalSize))
            var decoder = RecordBatchDecoder(ByteBuffer(bytes: bytes), decompressedBytesMax: Limits.batchDecompressedBytesMax)
            let next: DecodedBatch?
            do {
                next = try decoder.next()
            } catch {
                throw .corruptFile(path: segment.logPath, reason: "the cleaner cannot read the batch at position \(position): \(error)")
            }
            guard let decoded = next else {
                throw .corruptFile(path: segment.logPath, reason: "the cleaner found no whole batch at position \(position)")
            }
            let records = decoded.records.map { record in
                RecordSummary(offset: record.offset.rawValue, key: record.key.map { Array($0.readableBytesView) },
                              hasValue: record.value != nil)
            }
            let horizon = header.attributes & RecordBatchRewriter.deleteHorizonFlag != 0 ? header.baseTimestamp : nil
            let summary = BatchSummary(baseOffset: header.baseOffset, lastOffset: header.lastOffset,
                                       producerId: header.producerId, isControl: header.isControl,
                                       deleteHorizonMs: horizon, records: records)
            batches.append(CleanerBatch(bytes: bytes, decoded: decoded, summary: summary))
            position += header.totalSize
        }
        return batches
    }
}
