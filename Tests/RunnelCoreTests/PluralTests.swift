import RunnelCore
import Testing

@Test(arguments: [(0, "0 partitions"), (1, "1 partition"), (2, "2 partitions"), (-1, "-1 partitions")])
func countedPluralises(count: Int, expected: String) {
    #expect(counted(count, "partition") == expected)
}

@Test func countedTakesAnIrregularPlural() {
    #expect(counted(Int64(1), "entry", plural: "entries") == "1 entry")
    #expect(counted(UInt8(3), "entry", plural: "entries") == "3 entries")
}
