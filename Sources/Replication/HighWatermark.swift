import RunnelCore

/// Replication ◇: per-partition leader/follower logic. For now only the high-watermark rule;
/// ISR changes and epoch-based truncation arrive with the replication issue.
public enum HighWatermark {
    /// HW = the smallest log end offset among the in-sync replicas (DESIGN.md §5). With one
    /// replica it is that replica's log end offset.
    public static func compute(inSyncLogEndOffsets: [Offset]) -> Offset? {
        inSyncLogEndOffsets.min()
    }
}
