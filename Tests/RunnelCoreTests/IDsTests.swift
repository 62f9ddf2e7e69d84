import Testing
@testable import RunnelCore

@Suite struct IDsTests {
    @Test func topicNameRules() {
        #expect(TopicName.invalidReason("orders.v1_x-y") == nil)
        #expect(TopicName.invalidReason("") != nil)
        #expect(TopicName.invalidReason("..") != nil)
        #expect(TopicName.invalidReason("a b") != nil)
        #expect(TopicName.invalidReason(String(repeating: "a", count: 250)) != nil)
        #expect(TopicName.invalidReason(String(repeating: "a", count: 249)) == nil)
    }
    @Test func topicIDRoundTripsThroughKafkaText() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<100 {
            let id = TopicID.random(using: &rng)
            #expect(id.description.count == 22)
            #expect(TopicID(string: id.description) == id)
        }
    }
}
