import RunnelCore

extension PartitionLog {
    /// The largest record timestamp in the log (each segment's running maximum), or `.none` for
    /// an empty log. ListOffsets MAX_TIMESTAMP (-3) then looks up the first record carrying it.
    public var maxTimestamp: TimestampMs {
        segments.reduce(TimestampMs.none) { max($0, $1.maxTimestampSoFar) }
    }
}
