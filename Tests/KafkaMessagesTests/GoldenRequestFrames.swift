// Request frames (the bytes after the 4-byte size) captured from real Kafka clients talking to a
// fake broker that advertised the ranges of PROTOCOL.md "Recommended first advertisement", lowered
// per scenario to make a client pick an older version. Capture tool: a Python socket server that
// answered with kafka-python-built responses and logged every frame (scenario names say which run).
// Regenerating is not needed: these bytes are facts about the clients, not about our code.

struct GoldenFrame: Sendable, CustomStringConvertible {
    let apiKey: Int16
    let apiVersion: Int16
    let client: String
    let scenario: String
    let hex: String
    var description: String { "key \(apiKey) v\(apiVersion) from \(client) (\(scenario))" }
}

let goldenRequests: [GoldenFrame] = [
    // produce v3, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_P3
    GoldenFrame(apiKey: 0, apiVersion: 3, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_P3", hex: """
        0000000300000003000772646b61666b61ffffffff00007530000000010006676f6c64656e0000000100000000000000
        4d00000000000000000000004100000000021565cd5b000000000001000001a1fc5cc36e000001a1fc5cc36effffffff
        ffffffffffffffffffff000000020e000000010261000e00000201026200
        """),
    // produce v7, aiokafka 0.14.0, scenario aio_prod
    GoldenFrame(apiKey: 0, apiVersion: 7, client: "aiokafka 0.14.0", scenario: "aio_prod", hex: """
        0000000700000003001361696f6b61666b612d70726f64756365722d31ffffffff00009c40000000010006676f6c6465
        6e00000001000000000000004e000000000000000000000042ffffffff020b9525e1000000000000000001a1fc5d44c8
        000001a1fc5d44c800000000000010920000000000000000000120000000026b0a68656c6c6f0202680276
        """),
    // produce v7, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_P7
    GoldenFrame(apiKey: 0, apiVersion: 7, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_P7", hex: """
        0000000700000003000772646b61666b61ffffffff00007530000000010006676f6c64656e0000000100000000000000
        4d0000000000000000000000410000000002365369bb000000000000000001a1fc5e09b7000001a1fc5e09b7ffffffff
        ffffffffffffffffffff000000011e000000086b6579310a68656c6c6f00
        """),
    // produce v8, kafka-python 3.0.12, scenario kp_prodA
    GoldenFrame(apiKey: 0, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_prodA", hex: """
        000000080000000300176b61666b612d707974686f6e2d70726f64756365722d31ffffffff0000753000000001000667
        6f6c64656e00000001000000000000004e0000000000000000000000420000000002491fe016000000000000000001a1
        fc5dac5f000001a1fc5dac5f00000000000010920000000000000000000120000000026b0a68656c6c6f0202680276
        """),
    // produce v9, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_idem
    GoldenFrame(apiKey: 0, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_idem", hex: """
        0000000900000003000772646b61666b610000ffff000075300207676f6c64656e02000000004f000000000000000000
        000042000000000294fea3ee000000000000000001a1fc5e5488000001a1fc5e54880000000000001092000000000000
        0000000120000000026b0a68656c6c6f0202680276000000
        """),
    // produce v9, kafka-python 3.0.12, scenario kp_prodB
    GoldenFrame(apiKey: 0, apiVersion: 9, client: "kafka-python 3.0.12", scenario: "kp_prodB", hex: """
        000000090000000300176b61666b612d707974686f6e2d70726f64756365722d310000ffff000075300207676f6c6465
        6e02000000004f000000000000000000000042000000000222585288000000000000000001a1fc5db199000001a1fc5d
        b19900000000000010920000000000000000000120000000026b0a68656c6c6f0202680276000000
        """),
    // fetch v4, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C4
    GoldenFrame(apiKey: 1, apiVersion: 4, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C4", hex: """
        0001000400000005000772646b61666b61ffffffff000001f4000000010320000001000000010006676f6c64656e0000
        000100000000000000000000000000100000
        """),
    // fetch v10, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C10
    GoldenFrame(apiKey: 1, apiVersion: 10, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C10", hex: """
        0001000a00000005000772646b61666b61ffffffff000001f400000001032000000100000000ffffffff000000010006
        676f6c64656e0000000100000000ffffffff0000000000000000ffffffffffffffff0010000000000000
        """),
    // fetch v11, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 1, apiVersion: 11, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0001000b00000005000f61696f6b61666b612d302e31342e30ffffffff000001f400000001032000000000000000ffff
        ffff000000010006676f6c64656e0000000100000000ffffffff0000000000000000ffffffffffffffff001000000000
        00000000
        """),
    // fetch v11, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C11
    GoldenFrame(apiKey: 1, apiVersion: 11, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C11", hex: """
        0001000b00000005000772646b61666b61ffffffff000001f400000001032000000100000000ffffffff000000010006
        676f6c64656e0000000100000000ffffffff0000000000000000ffffffffffffffff00100000000000000000
        """),
    // fetch v12, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 1, apiVersion: 12, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0001000c00000006000772646b61666b6100ffffffff000001f400000001032000000100000000ffffffff0207676f6c
        64656e0200000000000000000000000000000000ffffffffffffffffffffffff001000000000010100
        """),
    // fetch v12, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 1, apiVersion: 12, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        0001000c0000000400136b61666b612d707974686f6e2d332e302e313200ffffffff000001f400000001032000000000
        000000000000000207676f6c64656e0200000000ffffffff0000000000000000ffffffffffffffffffffffff00100000
        0000010100
        """),
    // listOffsets v1, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C4
    GoldenFrame(apiKey: 2, apiVersion: 1, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C4", hex: """
        0002000100000004000772646b61666b61ffffffff000000010006676f6c64656e0000000100000000ffffffffffffff
        ff
        """),
    // listOffsets v2, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C10
    GoldenFrame(apiKey: 2, apiVersion: 2, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C10", hex: """
        0002000200000004000772646b61666b61ffffffff01000000010006676f6c64656e0000000100000000ffffffffffff
        ffff
        """),
    // listOffsets v3, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 2, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0002000300000004000f61696f6b61666b612d302e31342e30ffffffff00000000010006676f6c64656e000000010000
        0000fffffffffffffffe
        """),
    // listOffsets v5, kafka-python 3.0.12, scenario kp_groupD
    GoldenFrame(apiKey: 2, apiVersion: 5, client: "kafka-python 3.0.12", scenario: "kp_groupD", hex: """
        000200050000000300136b61666b612d707974686f6e2d332e302e3132ffffffff00000000010006676f6c64656e0000
        000100000000fffffffffffffffffffffffe
        """),
    // listOffsets v7, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 2, apiVersion: 7, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0002000700000005000772646b61666b6100ffffffff010207676f6c64656e020000000000000000fffffffffffffffe
        000000
        """),
    // listOffsets v7, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 2, apiVersion: 7, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000200070000000300136b61666b612d707974686f6e2d332e302e313200ffffffff000207676f6c64656e0200000000
        fffffffffffffffffffffffe000000
        """),
    // metadata v4, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C10
    GoldenFrame(apiKey: 3, apiVersion: 4, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C10", hex: """
        0003000400000002000772646b61666b61000000010006676f6c64656e00
        """),
    // metadata v5, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 3, apiVersion: 5, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0003000500000002000f61696f6b61666b612d302e31342e300000000001
        """),
    // metadata v8, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 3, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000300080000000200136b61666b612d707974686f6e2d332e302e313200000000010000
        """),
    // metadata v12, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_848
    GoldenFrame(apiKey: 3, apiVersion: 12, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_848", hex: """
        0003000c00000002000772646b61666b610001000000
        """),
    // metadata v12, kafka-python 3.0.12, scenario kp_admin
    GoldenFrame(apiKey: 3, apiVersion: 12, client: "kafka-python 3.0.12", scenario: "kp_admin", hex: """
        0003000c0000000200136b61666b612d707974686f6e2d332e302e31320001010000
        """),
    // offsetCommit v3, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 8, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0008000300000009000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f75700000000100086d656d
        6265722d31ffffffffffffffff000000010006676f6c64656e000000010000000000000000000000010000
        """),
    // offsetCommit v7, kafka-python 3.0.12, scenario kp_groupB
    GoldenFrame(apiKey: 8, apiVersion: 7, client: "kafka-python 3.0.12", scenario: "kp_groupB", hex: """
        000800070000001300136b61666b612d707974686f6e2d332e302e3132000c676f6c64656e2d67726f75700000000100
        086d656d6265722d31ffff000000010006676f6c64656e00000001000000000000000000000001ffffffff0000
        """),
    // offsetCommit v8, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 8, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000800080000001400136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700000000109
        6d656d6265722d31000207676f6c64656e02000000000000000000000001ffffffff01000000
        """),
    // offsetCommit v9, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 8, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0008000900000008000772646b61666b61000d676f6c64656e2d67726f757000000001096d656d6265722d3100020767
        6f6c64656e02000000000000000000000001ffffffff01000000
        """),
    // offsetFetch v3, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 9, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0009000300000004000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f7570000000010006676f6c
        64656e0000000100000000
        """),
    // offsetFetch v5, kafka-python 3.0.12, scenario kp_groupC
    GoldenFrame(apiKey: 9, apiVersion: 5, client: "kafka-python 3.0.12", scenario: "kp_groupC", hex: """
        000900050000000400136b61666b612d707974686f6e2d332e302e3132000c676f6c64656e2d67726f75700000000100
        06676f6c64656e0000000100000000
        """),
    // offsetFetch v7, kafka-python 3.0.12, scenario kp_groupB
    GoldenFrame(apiKey: 9, apiVersion: 7, client: "kafka-python 3.0.12", scenario: "kp_groupB", hex: """
        000900070000000400136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700207676f6c
        64656e0200000000000000
        """),
    // offsetFetch v8, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 9, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000900080000000400136b61666b612d707974686f6e2d332e302e313200020d676f6c64656e2d67726f75700207676f
        6c64656e020000000000000000
        """),
    // offsetFetch v9, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 9, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0009000900000007000772646b61666b6100020d676f6c64656e2d67726f757000ffffffff0207676f6c64656e020000
        000000000100
        """),
    // findCoordinator v0, kafka-python 3.0.12, scenario kp_groupB
    GoldenFrame(apiKey: 10, apiVersion: 0, client: "kafka-python 3.0.12", scenario: "kp_groupB", hex: """
        000a00000000000200136b61666b612d707974686f6e2d332e302e3132000c676f6c64656e2d67726f7570
        """),
    // findCoordinator v1, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 10, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000a000100000002000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f757000
        """),
    // findCoordinator v2, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_848
    GoldenFrame(apiKey: 10, apiVersion: 2, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_848", hex: """
        000a000200000003000772646b61666b61000c676f6c64656e2d67726f757000
        """),
    // findCoordinator v3, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 10, apiVersion: 3, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000a00030000000200136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700000
        """),
    // joinGroup v5, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 11, apiVersion: 5, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000b000500000002000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f7570000017700000177000
        00ffff0008636f6e73756d657200000001000a726f756e64726f62696e000000120000000000010006676f6c64656e00
        000000
        """),
    // joinGroup v5, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 11, apiVersion: 5, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        000b000500000003000772646b61666b61000c676f6c64656e2d67726f757000001770000493e00000ffff0008636f6e
        73756d657200000002000572616e67650000001c0003000000010006676f6c64656e0000000000000000ffffffff0000
        000a726f756e64726f62696e0000001c0003000000010006676f6c64656e0000000000000000ffffffff0000
        """),
    // joinGroup v7, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 11, apiVersion: 7, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000b00070000000200136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700000177000
        0493e0010009636f6e73756d6572030672616e6765130000000000010006676f6c64656e00000000000b726f756e6472
        6f62696e130000000000010006676f6c64656e000000000000
        """),
    // heartbeat v1, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 12, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000c000100000005000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f75700000000100086d656d
        6265722d31
        """),
    // heartbeat v3, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 12, apiVersion: 3, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        000c000300000006000772646b61666b61000c676f6c64656e2d67726f75700000000100086d656d6265722d31ffff
        """),
    // heartbeat v4, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 12, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000c00040000000700136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700000000109
        6d656d6265722d310000
        """),
    // leaveGroup v1, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 13, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000d00010000000e000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f757000086d656d6265722d
        31
        """),
    // leaveGroup v1, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 13, apiVersion: 1, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        000d00010000001f000772646b61666b61000c676f6c64656e2d67726f757000086d656d6265722d31
        """),
    // leaveGroup v3, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 13, apiVersion: 3, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000d00030000001500136b61666b612d707974686f6e2d332e302e3132000c676f6c64656e2d67726f75700000000100
        086d656d6265722d31ffff
        """),
    // leaveGroup v4, kafka-python 3.0.12, scenario kp_groupB
    GoldenFrame(apiKey: 13, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_groupB", hex: """
        000d00040000001500136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f757002096d656d
        6265722d31000000
        """),
    // syncGroup v3, aiokafka 0.14.0, scenario aio_group
    GoldenFrame(apiKey: 14, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000e000300000003000f61696f6b61666b612d302e31342e30000c676f6c64656e2d67726f75700000000100086d656d
        6265722d31ffff0000000100086d656d6265722d310000001a0000000000010006676f6c64656e000000010000000000
        000000
        """),
    // syncGroup v3, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_group
    GoldenFrame(apiKey: 14, apiVersion: 3, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        000e000300000005000772646b61666b61000c676f6c64656e2d67726f75700000000100086d656d6265722d31ffff00
        00000100086d656d6265722d310000001a0000000000010006676f6c64656e000000010000000000000000
        """),
    // syncGroup v5, kafka-python 3.0.12, scenario kp_groupA
    GoldenFrame(apiKey: 14, apiVersion: 5, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000e00050000000300136b61666b612d707974686f6e2d332e302e3132000d676f6c64656e2d67726f75700000000109
        6d656d6265722d310009636f6e73756d65720672616e676502096d656d6265722d311b0000000000010006676f6c6465
        6e0000000100000000000000000000
        """),
    // apiVersions v0, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 18, apiVersion: 0, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0012000000000001000f61696f6b61666b612d302e31342e30
        """),
    // apiVersions v3, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_848
    GoldenFrame(apiKey: 18, apiVersion: 3, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_848", hex: """
        0012000300000001000772646b61666b610017636f6e666c75656e742d6b61666b612d707974686f6e16322e31362e31
        2d72646b61666b612d322e31362e3000
        """),
    // apiVersions v3, kcat 1.7.1 (librdkafka 2.0.2), scenario kcat_C10
    GoldenFrame(apiKey: 18, apiVersion: 3, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C10", hex: """
        0012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200
        """),
    // apiVersions v4, kafka-python 3.0.12, scenario kp_admin
    GoldenFrame(apiKey: 18, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_admin", hex: """
        001200040000000100136b61666b612d707974686f6e2d332e302e3132000d6b61666b612d707974686f6e07332e302e
        313200
        """),
    // createTopics v3, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 19, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0013000300000002000f61696f6b61666b612d302e31342e300000000100076372656174656400000003000100000000
        00000001000c726574656e74696f6e2e6d7300043130303000009c4000
        """),
    // createTopics v4, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_admin
    GoldenFrame(apiKey: 19, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0013000400000003000772646b61666b61000000010007637265617465640000000300010000000000000001000c7265
        74656e74696f6e2e6d730004313030300000138800
        """),
    // createTopics v5, kafka-python 3.0.12, scenario kp_admin
    GoldenFrame(apiKey: 19, apiVersion: 5, client: "kafka-python 3.0.12", scenario: "kp_admin", hex: """
        001300050000000300136b61666b612d707974686f6e2d332e302e31320002086372656174656400000003000101020d
        726574656e74696f6e2e6d7305313030300000000075300000
        """),
    // deleteTopics v3, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 20, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0014000300000005000f61696f6b61666b612d302e31342e300000000100076372656174656400009c40
        """),
    // deleteTopics v4, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_admin
    GoldenFrame(apiKey: 20, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0014000400000006000772646b61666b61000208637265617465640000138800
        """),
    // initProducerId v0, aiokafka 0.14.0, scenario aio_prod
    GoldenFrame(apiKey: 22, apiVersion: 0, client: "aiokafka 0.14.0", scenario: "aio_prod", hex: """
        0016000000000002001361696f6b61666b612d70726f64756365722d31ffff7fffffff
        """),
    // initProducerId v1, kafka-python 3.0.12, scenario kp_prodB
    GoldenFrame(apiKey: 22, apiVersion: 1, client: "kafka-python 3.0.12", scenario: "kp_prodB", hex: """
        001600010000000200176b61666b612d707974686f6e2d70726f64756365722d31ffff00000000
        """),
    // initProducerId v4, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_idem
    GoldenFrame(apiKey: 22, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_idem", hex: """
        0016000400000002000772646b61666b610000ffffffffffffffffffffffffffff00
        """),
    // initProducerId v4, kafka-python 3.0.12, scenario kp_prodA
    GoldenFrame(apiKey: 22, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_prodA", hex: """
        001600040000000200176b61666b612d707974686f6e2d70726f64756365722d31000000000000ffffffffffffffffff
        ff00
        """),
    // describeConfigs v1, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_admin
    GoldenFrame(apiKey: 32, apiVersion: 1, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0020000100000005000772646b61666b6100000001020006676f6c64656effffffff01
        """),
    // describeConfigs v2, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 32, apiVersion: 2, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0020000200000004000f61696f6b61666b612d302e31342e3000000001020006676f6c64656effffffff00
        """),
    // createPartitions v0, kafka-python 3.0.12, scenario kp_adminB
    GoldenFrame(apiKey: 37, apiVersion: 0, client: "kafka-python 3.0.12", scenario: "kp_adminB", hex: """
        002500000000000400136b61666b612d707974686f6e2d332e302e3132000000010006676f6c64656e00000004ffffff
        ff0000753000
        """),
    // createPartitions v1, aiokafka 0.14.0, scenario aio_admin
    GoldenFrame(apiKey: 37, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_admin", hex: """
        0025000100000003000f61696f6b61666b612d302e31342e30000000010006676f6c64656e00000004ffffffff00009c
        4000
        """),
    // createPartitions v2, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_admin
    GoldenFrame(apiKey: 37, apiVersion: 2, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0025000200000004000772646b61666b61000207676f6c64656e0000000400000000ea600000
        """),
    // createPartitions v2, kafka-python 3.0.12, scenario kp_admin
    GoldenFrame(apiKey: 37, apiVersion: 2, client: "kafka-python 3.0.12", scenario: "kp_admin", hex: """
        002500020000000400136b61666b612d707974686f6e2d332e302e3132000207676f6c64656e00000004000000007530
        0000
        """),
    // consumerGroupHeartbeat v1, confluent-kafka 2.16.1 (librdkafka 2.16.0), scenario ck_848
    GoldenFrame(apiKey: 68, apiVersion: 1, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_848", hex: """
        0044000100000003000772646b61666b61000d676f6c64656e2d67726f757017566f4b6571464c675236756357396f49
        63412b636c51000000000000000493e00207676f6c64656e01000100
        """),
]
