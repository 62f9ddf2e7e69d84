import RunnelCore

/// Where the replicas of new partitions go: Kafka's rack-unaware assignment. The first replica of
/// partition p is broker `(start + p) mod n`; the others follow it at a shift that grows by one
/// every time the partitions wrap around the brokers, so followers spread as evenly as leaders.
/// `start` and the initial shift are random (Kafka's spread across topics); the first replica is
/// the preferred leader.
public enum ReplicaPlacement {
    /// Replica lists for partitions `first ..< first + count` over `brokers` (sorted, usable).
    /// `replicationFactor` must be in 1...brokers.count.
    public static func assign<G: RandomNumberGenerator>(
        partitions first: Int32, count: Int32, replicationFactor: Int, brokers: [BrokerID], random: inout G
    ) -> [[BrokerID]] {
        let n = brokers.count
        precondition(n > 0 && replicationFactor >= 1 && replicationFactor <= n, "placement needs rf in 1...\(n)")
        let start = Int.random(in: 0..<n, using: &random)
        var shift = Int.random(in: 0..<n, using: &random)
        var out: [[BrokerID]] = []
        for offset in 0..<Int(count) {
            let p = Int(first) + offset
            if p > 0 && p % n == 0 { shift += 1 }
            let firstIndex = (start + p) % n
            var replicas = [brokers[firstIndex]]
            for j in 0..<(replicationFactor - 1) {
                replicas.append(brokers[followerIndex(first: firstIndex, shift: shift, replica: j, brokers: n)])
            }
            out.append(replicas)
        }
        return out
    }

    static func followerIndex(first: Int, shift: Int, replica j: Int, brokers n: Int) -> Int {
        let step = 1 + (shift + j) % (n - 1)
        return (first + step) % n
    }
}
