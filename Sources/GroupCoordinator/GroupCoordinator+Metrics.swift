import RunnelCore

/// Read-only views for the broker's metrics, taken when /metrics is scraped (docs/decisions.md
/// D122): nothing here runs on the request path.
extension GroupCoordinatorStateMachine {
    /// Each group's state as ListGroups reports it ("Stable", "Empty", …).
    public var groupStates: [String] { groups.keys.map { listed($0).state } }

    /// Every committed offset: group, partition, offset.
    public var committedOffsets: [(group: String, partition: TopicPartition, offset: Offset)] {
        offsets.flatMap { group, byPartition in byPartition.map { (group, $0.key, $0.value.offset) } }
    }
}
