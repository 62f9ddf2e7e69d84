import RunnelCore

extension RecordBatchHeader {
    /// `validate` for a batch already in a log, where compaction may have left it with fewer
    /// records than its offsets span (a kept record's offset delta stays, so recordsCount may be
    /// below lastOffsetDelta + 1), or with none at all (an idempotent producer's last batch is kept
    /// empty so that its sequence survives; docs/decisions.md D144, D147). Length, magic and CRC
    /// are checked as strictly as on produce; only more records than offsets is still refused.
    static func validateStored(_ bytes: UnsafeRawBufferPointer) -> Result<RecordBatchHeader, Invalid> {
        switch validate(bytes) {
        case .failure(.badCounts(let recordsCount, let lastOffsetDelta))
            where recordsCount >= 0 && lastOffsetDelta >= 0 && Int64(recordsCount) <= Int64(lastOffsetDelta) + 1:
            // Everything before the counts (length, magic, CRC) passed.
            return RecordBatchHeader(bytes).map { .success($0) } ?? .failure(.truncatedHeader(available: bytes.count))
        case let other:
            return other
        }
    }
}
