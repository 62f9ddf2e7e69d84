import KafkaMessages

/// The versions this client speaks per API, and what one broker advertised. The client sends
/// min(its max, the broker's max) as long as that is within both ranges (PROTOCOL.md §1).
public struct ApiVersionTable: Sendable, Equatable {
    /// Versions whose semantics this client implements. Minimums: Produce 3 and Fetch 4 are the
    /// first with RecordBatch v2; ListOffsets 1 the first with a single offset per timestamp;
    /// Metadata 1 the first where a null topic list means "all topics". Groups: OffsetFetch 2 is
    /// the first where a null topic list means "every committed partition"; FindCoordinator
    /// stops at 3 (v4 batches keys); ConsumerGroupHeartbeat 1 is the first with client-chosen
    /// member ids (KIP-1082). ElectLeaders 1 is the first with an election type (KIP-460).
    public static let client: [ApiKey: ClosedRange<Int16>] = [
        .produce: 3...9,
        .fetch: 4...12,
        .listOffsets: 1...7,
        .metadata: 1...12,
        .apiVersions: 0...3,
        .createTopics: 1...7,
        .deleteTopics: 1...6,
        .initProducerId: 0...4,
        .describeConfigs: 1...4,
        .incrementalAlterConfigs: 0...1,
        .deleteRecords: 0...2,
        .createPartitions: 0...3,
        .electLeaders: 1...2,
        .describeQuorum: 0...2,
        .describeCluster: 0...2,
        .offsetCommit: 2...9,
        .offsetFetch: 2...9,
        .findCoordinator: 0...3,
        .describeGroups: 0...5,
        .listGroups: 0...5,
        .deleteGroups: 0...2,
        .offsetDelete: 0...0,
        .consumerGroupHeartbeat: 1...1,
        .consumerGroupDescribe: 0...0,
        .describeAcls: 1...3,
        .createAcls: 1...3,
        .deleteAcls: 1...3,
        .saslHandshake: 1...1,
        .saslAuthenticate: 0...2,
        .describeUserScramCredentials: 0...0,
        .alterUserScramCredentials: 0...0,
    ]

    /// What the broker advertised, by API key.
    public var broker: [Int16: ClosedRange<Int16>]

    public init(broker: [Int16: ClosedRange<Int16>]) {
        self.broker = broker
    }

    init(_ response: ApiVersionsResponse) {
        var broker: [Int16: ClosedRange<Int16>] = [:]
        for api in response.apiKeys where api.minVersion <= api.maxVersion {
            broker[api.apiKey] = api.minVersion...api.maxVersion
        }
        self.init(broker: broker)
    }

    /// The version to send for `api`, or nil when the ranges do not overlap.
    public func version(for api: ApiKey) -> Int16? {
        guard let mine = Self.client[api], let theirs = broker[api.rawValue] else { return nil }
        let version = min(mine.upperBound, theirs.upperBound)
        guard version >= mine.lowerBound, version >= theirs.lowerBound else { return nil }
        return version
    }

    /// "0-9" or "none", for error messages.
    public func brokerRange(for api: ApiKey) -> String {
        guard let range = broker[api.rawValue] else { return "none" }
        return "\(range.lowerBound)-\(range.upperBound)"
    }
}
