"""The cluster's admin APIs as Kafka's clients use them, against a single node (a one-voter
metadata quorum that is its own active controller):

- DescribeCluster (key 60): confluent-kafka's `AdminClient.describe_cluster()` (librdkafka sends
  v0) and kafka-python's `describe_cluster()` (v2, with include_fenced_brokers): cluster id, the
  controller, the broker at its address, the cluster's authorized operations.
- DescribeQuorum (key 55): kafka-python's `describe_metadata_quorum()`: `__cluster_metadata`
  partition 0 with this node as leader and only voter.
- ElectLeaders (key 43): both clients; the preferred replica of every partition already leads,
  so each election is ELECTION_NOT_NEEDED, which kafka-python ignores and confluent-kafka reports
  per partition.

and against a three-node cluster, where every node must give the same cluster and quorum.
"""
from __future__ import annotations

import pytest
from confluent_kafka import ElectionType, KafkaError, TopicPartition
from kafka import KafkaAdminClient

from interop_support import CLIENT_TIMEOUT_S, ck_admin, ck_create_topic, unique_topic, wait_until

CLUSTER_OPS = {"CREATE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"}


def kp_admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(CLIENT_TIMEOUT_S * 1000))


def cluster_id_of(broker) -> str:
    text = (broker.data_dir / "meta.properties").read_text()
    return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("cluster.id="))


@pytest.mark.deadline(60)
def test_confluent_describe_cluster(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    described = admin.describe_cluster(include_authorized_operations=True,
                                       request_timeout=CLIENT_TIMEOUT_S).result(timeout=CLIENT_TIMEOUT_S)
    assert described.cluster_id == cluster_id_of(module_broker)
    assert described.controller is not None and described.controller.id == 1
    assert [(n.id, n.host, n.port) for n in described.nodes] == [(1, "127.0.0.1", module_broker.port)]
    assert {op.name for op in described.authorized_operations or []} == CLUSTER_OPS
    # Not asked for: none reported.
    plain = admin.describe_cluster(request_timeout=CLIENT_TIMEOUT_S).result(timeout=CLIENT_TIMEOUT_S)
    assert not plain.authorized_operations


@pytest.mark.deadline(60)
def test_kafka_python_describe_cluster_and_quorum(module_broker):
    admin = kp_admin(module_broker.bootstrap)
    try:
        described = admin.describe_cluster()
        assert described["cluster_id"] == cluster_id_of(module_broker)
        assert described["controller_id"] == 1
        brokers = described["brokers"]
        assert [(b["broker_id"], b["host"], b["port"]) for b in brokers] == [(1, "127.0.0.1", module_broker.port)]
        assert brokers[0].get("is_fenced") is False
        assert set(described["authorized_operations"]) == CLUSTER_OPS

        quorum = admin.describe_metadata_quorum()
        [topic] = quorum["topics"]
        assert topic["topic_name"] == "__cluster_metadata"
        [partition] = topic["partitions"]
        assert partition["error"] is None
        assert partition["leader_id"] == 1 and partition["leader_epoch"] >= 1
        assert partition["high_watermark"] > 0
        assert [v["replica_id"] for v in partition["current_voters"]] == [1]
        assert partition["current_voters"][0]["log_end_offset"] >= partition["high_watermark"]
        assert partition["observers"] == []
    finally:
        admin.close()


@pytest.mark.deadline(60)
def test_elect_leaders_when_the_preferred_replica_leads(module_broker):
    topic = unique_topic("elect")
    ck_create_topic(module_broker.bootstrap, topic, 2)
    admin = ck_admin(module_broker.bootstrap)
    # confluent-kafka 2.16's elect_leaders refuses keyword arguments (a SystemError in its C
    # binding), so it runs with the client's default timeouts.
    results = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition(topic, 0), TopicPartition(topic, 1)]) \
        .result(timeout=CLIENT_TIMEOUT_S)
    assert {(tp.topic, tp.partition) for tp in results} == {(topic, 0), (topic, 1)}
    for error in results.values():  # a KafkaError per partition
        assert error is not None and error.code() == KafkaError.ELECTION_NOT_NEEDED

    kp = kp_admin(module_broker.bootstrap)
    try:
        # ELECTION_NOT_NEEDED is not an error to kafka-python; an unknown partition is.
        response = kp.elect_leaders(0, {topic: [0, 1]})
        codes = {(r[0], p[0]): p[1] for r in response.replica_election_results for p in r[1]}
        assert codes == {(topic, 0): 84, (topic, 1): 84}
        response = kp.elect_leaders(1, {topic: [5]}, raise_errors=False)
        codes = {(r[0], p[0]): p[1] for r in response.replica_election_results for p in r[1]}
        assert codes == {(topic, 5): 3}
    finally:
        kp.close()


@pytest.mark.deadline(90)
def test_every_node_of_a_cluster_describes_the_same_cluster_and_quorum(module_cluster):
    """Three nodes: confluent-kafka's describe_cluster and kafka-python's describe_cluster and
    describe_metadata_quorum through each node give one cluster id, one controller that leads
    the quorum, three brokers and three voters (DescribeQuorum forwarded to the controller)."""
    def views():
        out = []
        for node in module_cluster.nodes:
            admin = ck_admin(node.bootstrap)  # kept alive until the future completes
            ck = admin.describe_cluster(request_timeout=CLIENT_TIMEOUT_S).result(timeout=CLIENT_TIMEOUT_S)
            kp = kp_admin(node.bootstrap)
            try:
                described = kp.describe_cluster()
                [partition] = kp.describe_metadata_quorum()["topics"][0]["partitions"]
            finally:
                kp.close()
            out.append((ck.cluster_id, ck.controller.id, sorted(n.id for n in ck.nodes),
                        described["controller_id"], sorted(b["broker_id"] for b in described["brokers"]),
                        partition["error"], partition["leader_id"], partition["leader_epoch"],
                        sorted(v["replica_id"] for v in partition["current_voters"])))
        return out if all(v == out[0] for v in out) else None

    [first, *_] = wait_until(views, 20, "every node to give the same answer")
    cluster_id, controller, brokers, kp_controller, kp_brokers, error, leader, epoch, voters = first
    assert cluster_id and brokers == [1, 2, 3] and kp_brokers == [1, 2, 3]
    assert controller == kp_controller == leader and error is None and epoch >= 1
    assert voters == [1, 2, 3]
