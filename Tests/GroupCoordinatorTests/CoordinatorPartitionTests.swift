import GroupCoordinator
import Testing

/// Expected values computed with Python: h = (31*h + unit) & 0xffffffff over UTF-16 code units,
/// read as a signed int32; partition = (0 if h == INT32_MIN else abs(h)) % 50.
struct CoordinatorPartitionTests {
    @Test(arguments: [
        ("", Int32(0), Int32(0)),
        ("a", 97, 47),
        ("my-group", -1_906_497_762, 12),
        ("console-consumer-12345", 158_455_506, 6),
        ("group-é", 293_427_483, 33),
        ("😀", 1_772_899, 49),  // a surrogate pair: two UTF-16 units
        ("polygenelubricants", Int32.min, 0),  // Utils.abs maps Int32.min to 0
    ])
    func javaHashAndPartition(_ group: String, _ hash: Int32, _ partition: Int32) {
        #expect(CoordinatorPartition.javaStringHashCode(group) == hash)
        #expect(CoordinatorPartition.partition(forGroup: group, partitionCount: 50) == partition)
    }
}
