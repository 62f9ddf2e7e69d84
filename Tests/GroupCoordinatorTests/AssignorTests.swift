import GroupCoordinator
import RunnelCore
import Testing

struct AssignorTests {
    static let t1 = TopicInfo(name: TopicName("t1"), id: TopicID(high: 1, low: 1), partitionCount: 7)
    static let t2 = TopicInfo(name: TopicName("t2"), id: TopicID(high: 2, low: 2), partitionCount: 3)

    func member(_ id: String, _ topics: [TopicInfo], _ current: PartitionAssignment = PartitionAssignment()) -> AssignorMember {
        AssignorMember(memberID: id, subscribedTopics: Set(topics.map(\.id)), current: current)
    }

    func assertPartitionedExactlyOnce(_ result: [String: PartitionAssignment], _ topics: [TopicInfo]) {
        var seen = PartitionAssignment()
        for a in result.values {
            for (t, p) in a.pairs {
                #expect(!seen.contains(t, p), "partition \(p) of \(t) assigned twice")
                seen.insert(t, p)
            }
        }
        #expect(seen.count == topics.reduce(0) { $0 + Int($1.partitionCount) })
    }

    @Test(arguments: 1...9)
    func uniformIsBalancedWithinOne(_ memberCount: Int) {
        let members = (0..<memberCount).map { member("m\($0)", [Self.t1, Self.t2]) }
        let result = Assignors.uniform(members: members, topics: [Self.t1, Self.t2])
        let counts = result.values.map(\.count)
        #expect(counts.max()! - counts.min()! <= 1)
        assertPartitionedExactlyOnce(result, [Self.t1, Self.t2])
    }

    @Test func uniformIsStickyWhenAMemberJoins() {
        let two = Assignors.uniform(members: [member("a", [Self.t1, Self.t2]), member("b", [Self.t1, Self.t2])], topics: [Self.t1, Self.t2])
        let three = Assignors.uniform(
            members: [member("a", [Self.t1, Self.t2], two["a"]!), member("b", [Self.t1, Self.t2], two["b"]!), member("c", [Self.t1, Self.t2])],
            topics: [Self.t1, Self.t2])
        // 10 partitions: 5+5 → 4+3+3 (or 3+4+3): only what c needs moves, nothing moves between a and b.
        #expect(three["a"]!.isSubset(of: two["a"]!))
        #expect(three["b"]!.isSubset(of: two["b"]!))
        #expect(three["c"]!.count == 3)
        let moved = two["a"]!.subtracting(three["a"]!).count + two["b"]!.subtracting(three["b"]!).count
        #expect(moved == 3)
        assertPartitionedExactlyOnce(three, [Self.t1, Self.t2])
    }

    @Test func uniformIsStickyWhenAMemberLeaves() {
        let three = Assignors.uniform(members: ["a", "b", "c"].map { member($0, [Self.t1, Self.t2]) }, topics: [Self.t1, Self.t2])
        let two = Assignors.uniform(
            members: [member("a", [Self.t1, Self.t2], three["a"]!), member("b", [Self.t1, Self.t2], three["b"]!)],
            topics: [Self.t1, Self.t2])
        #expect(three["a"]!.isSubset(of: two["a"]!))
        #expect(three["b"]!.isSubset(of: two["b"]!))
        #expect(two["a"]!.count == 5 && two["b"]!.count == 5)
    }

    @Test func uniformWithDifferentSubscriptionsOnlyAssignsSubscribedTopics() {
        let result = Assignors.uniform(members: [member("a", [Self.t1]), member("b", [Self.t1, Self.t2])], topics: [Self.t1, Self.t2])
        #expect(result["a"]!.partitions[Self.t2.id] == nil)
        #expect(result["b"]!.partitions[Self.t2.id]?.count == 3)
        // 10 partitions, a can only take t1: 5 and 5 is reachable.
        #expect(result["a"]!.count == 5 && result["b"]!.count == 5)
        assertPartitionedExactlyOnce(result, [Self.t1, Self.t2])
    }

    @Test func uniformDropsPartitionsThatNoLongerExist() {
        var current = PartitionAssignment()
        current.insert(Self.t1.id, PartitionID(9))  // t1 has 7 partitions
        let result = Assignors.uniform(members: [member("a", [Self.t1], current)], topics: [Self.t1])
        #expect(!result["a"]!.contains(Self.t1.id, PartitionID(9)))
        #expect(result["a"]!.count == 7)
    }

    @Test func rangeFollowsKafkasPerTopicRule() {
        // t1 (7 partitions) over 3 members: 3, 2, 2; t2 (3) over a and c: 2, 1.
        let result = Assignors.range(members: [member("c", [Self.t1, Self.t2]), member("a", [Self.t1, Self.t2]), member("b", [Self.t1])],
                                     topics: [Self.t1, Self.t2])
        func ps(_ m: String, _ t: TopicInfo) -> [Int32] { (result[m]!.partitions[t.id] ?? []).map(\.rawValue).sorted() }
        #expect(ps("a", Self.t1) == [0, 1, 2])
        #expect(ps("b", Self.t1) == [3, 4])
        #expect(ps("c", Self.t1) == [5, 6])
        #expect(ps("a", Self.t2) == [0, 1])
        #expect(ps("c", Self.t2) == [2])
        #expect(ps("b", Self.t2) == [])
    }

    @Test func assignorsGiveEveryMemberAnEntry() {
        for name in ServerAssignorName.allCases {
            let result = Assignors.assign(name, members: [member("a", [Self.t1]), member("idle", [])], topics: [Self.t1])
            #expect(result["idle"] == PartitionAssignment())
            #expect(result["a"]!.count == 7)
        }
    }
}
