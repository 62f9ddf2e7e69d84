/// The mapping of a group to its `__consumer_offsets` partition, whose leader is the group's
/// coordinator (DESIGN.md §6). The state machine of one such partition is
/// `GroupCoordinatorStateMachine`.
public enum CoordinatorPartition {
    /// Java's `String.hashCode`: h = 31*h + c over UTF-16 code units, wrapping at 32 bits.
    public static func javaStringHashCode(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// Kafka's `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`, where Utils.abs
    /// maps Int32.min to 0.
    public static func partition(forGroup groupId: String, partitionCount: Int32) -> Int32 {
        let h = javaStringHashCode(groupId)
        let positive = h == Int32.min ? 0 : abs(h)
        return positive % partitionCount
    }
}
