// Response frames (after the 4-byte size) encoded by kafka-python 3.0.12's schema-driven encoder,
// an implementation independent of ours, as the capture broker sent them to the client named
// (which accepted them). Used to check that our decoder reads another encoder's output and that
// our encoder reproduces it byte for byte.

let goldenResponses: [GoldenFrame] = [
    GoldenFrame(apiKey: 0, apiVersion: 7, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_P7", hex: """
        00000003000000010006676f6c64656e000000010000000000000000000000000000ffffffffffffffff000000000000
        000000000000
        """),
    GoldenFrame(apiKey: 0, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_idem", hex: """
        00000003000207676f6c64656e020000000000000000000000000000ffffffffffffffff000000000000000001000000
        0000000000
        """),
    GoldenFrame(apiKey: 1, apiVersion: 11, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000500000000000000000000000000010006676f6c64656e00000001000000000000000000000000000000000000
        00000000000000000000000000000000ffffffff00000000
        """),
    GoldenFrame(apiKey: 1, apiVersion: 12, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0000000600000000000000000000000207676f6c64656e02000000000000000000000000000000000000000000000000
        00000000000001ffffffff01000000
        """),
    GoldenFrame(apiKey: 2, apiVersion: 2, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C11", hex: """
        0000000400000000000000010006676f6c64656e00000001000000000000ffffffffffffffff0000000000000000
        """),
    GoldenFrame(apiKey: 2, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000400000000000000010006676f6c64656e00000001000000000000ffffffffffffffff0000000000000000
        """),
    GoldenFrame(apiKey: 2, apiVersion: 7, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0000000500000000000207676f6c64656e02000000000000ffffffffffffffff000000000000000000000000000000
        """),
    GoldenFrame(apiKey: 3, apiVersion: 4, client: "kcat 1.7.1 (librdkafka 2.0.2)", scenario: "kcat_C11", hex: """
        0000000200000000000000010000000100093132372e302e302e3100004b8fffff000e676f6c64656e2d636c75737465
        72000000010000000100000006676f6c64656e0000000001000000000000000000010000000100000001000000010000
        0001
        """),
    GoldenFrame(apiKey: 3, apiVersion: 5, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000200000000000000010000000100093132372e302e302e3100004b8dffff000e676f6c64656e2d636c75737465
        72000000010000000100000006676f6c64656e0000000001000000000000000000010000000100000001000000010000
        000100000000
        """),
    GoldenFrame(apiKey: 3, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        0000000200000000000000010000000100093132372e302e302e3100004b90ffff000e676f6c64656e2d636c75737465
        72000000010000000100000006676f6c64656e0000000001000000000000000000010000000000000001000000010000
        000100000001000000008000000080000000
        """),
    GoldenFrame(apiKey: 3, apiVersion: 12, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        00000002000000000002000000010a3132372e302e302e3100004b9100000f676f6c64656e2d636c7573746572000000
        0102000007676f6c64656e5f3c3a2e9d4b4f0e8a1b2c3d4e5f6071000200000000000000000001000000000200000001
        02000000010100800000000000
        """),
    GoldenFrame(apiKey: 8, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000900000000000000010006676f6c64656e00000001000000000000
        """),
    GoldenFrame(apiKey: 8, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        0000001400000000000207676f6c64656e02000000000000000000
        """),
    GoldenFrame(apiKey: 8, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        0000000800000000000207676f6c64656e02000000000000000000
        """),
    GoldenFrame(apiKey: 9, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000400000000000000010006676f6c64656e0000000100000000ffffffffffffffff000000000000
        """),
    GoldenFrame(apiKey: 9, apiVersion: 8, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000040000000000020d676f6c64656e2d67726f75700207676f6c64656e0200000000ffffffffffffffffffffffff
        010000000000000000
        """),
    GoldenFrame(apiKey: 9, apiVersion: 9, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        000000070000000000020d676f6c64656e2d67726f75700207676f6c64656e0200000000ffffffffffffffffffffffff
        010000000000000000
        """),
    GoldenFrame(apiKey: 10, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        00000002000000000000ffff0000000100093132372e302e302e3100004b8d
        """),
    GoldenFrame(apiKey: 10, apiVersion: 2, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        00000003000000000000ffff0000000100093132372e302e302e3100004b8c
        """),
    GoldenFrame(apiKey: 10, apiVersion: 3, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000020000000000000000000000010a3132372e302e302e3100004b9000
        """),
    GoldenFrame(apiKey: 11, apiVersion: 5, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000200000000000000000001000a726f756e64726f62696e00086d656d6265722d3100086d656d6265722d310000
        000100086d656d6265722d31ffff000000120000000000010006676f6c64656e00000000
        """),
    GoldenFrame(apiKey: 11, apiVersion: 7, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        00000002000000000000000000000109636f6e73756d65720672616e6765096d656d6265722d31096d656d6265722d31
        02096d656d6265722d3100130000000000010006676f6c64656e000000000000
        """),
    GoldenFrame(apiKey: 12, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        00000005000000000000
        """),
    GoldenFrame(apiKey: 12, apiVersion: 3, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_group", hex: """
        00000006000000000000
        """),
    GoldenFrame(apiKey: 12, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000070000000000000000
        """),
    GoldenFrame(apiKey: 13, apiVersion: 1, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000e000000000000
        """),
    GoldenFrame(apiKey: 13, apiVersion: 3, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000150000000000000000000100086d656d6265722d31ffff0000
        """),
    GoldenFrame(apiKey: 14, apiVersion: 3, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        000000030000000000000000001a0000000000010006676f6c64656e000000010000000000000000
        """),
    GoldenFrame(apiKey: 14, apiVersion: 5, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000030000000000000009636f6e73756d65720672616e67651b0000000000010006676f6c64656e00000001000000
        000000000000
        """),
    GoldenFrame(apiKey: 18, apiVersion: 0, client: "aiokafka 0.14.0", scenario: "aio_group", hex: """
        0000000100000000001600000000000900010000000c00020000000700030000000c000800000009000900000009000a
        00000003000b00000007000c00000004000d00000004000e00000005000f000000050010000000040011000000010012
        00000004001300000005001400000004001500000002001600000004002000000002002400000002002500000002
        """),
    GoldenFrame(apiKey: 18, apiVersion: 3, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        000000010000170000000000090000010000000c000002000000070000030000000c0000080000000900000900000009
        00000a0000000300000b0000000700000c0000000400000d0000000400000e0000000500000f00000005000010000000
        040000110000000100001200000004000013000000050000140000000400001500000002000016000000040000200000
        00020000240000000200002500000002000000000000
        """),
    GoldenFrame(apiKey: 18, apiVersion: 4, client: "kafka-python 3.0.12", scenario: "kp_groupA", hex: """
        000000010000170000000000080000010000000c00000200000007000003000000080000080000000800000900000008
        00000a0000000300000b0000000700000c0000000400000d0000000300000e0000000500000f00000005000010000000
        040000110000000100001200000004000013000000050000140000000400001500000002000016000000040000200000
        00020000240000000200002500000002000000000000
        """),
    GoldenFrame(apiKey: 19, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0000000300000000000000010007637265617465640000ffff
        """),
    GoldenFrame(apiKey: 20, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        00000006000000000002086372656174656400000000
        """),
    GoldenFrame(apiKey: 22, apiVersion: 4, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_idem", hex: """
        00000002000000000000000000000000001092000000
        """),
    GoldenFrame(apiKey: 32, apiVersion: 1, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0000000500000000000000010000ffff020006676f6c64656e00000001000c726574656e74696f6e2e6d730009363034
        38303030303000050000000000
        """),
    GoldenFrame(apiKey: 37, apiVersion: 2, client: "confluent-kafka 2.16.1 (librdkafka 2.16.0)", scenario: "ck_admin", hex: """
        0000000400000000000207676f6c64656e0000000000
        """),
]
