"""ACLs against real clients, on a PLAINTEXT listener where every client is `User:ANONYMOUS`.

The broker runs Kafka's StandardAuthorizer semantics (`authorizer.class.name`) with
`allow.everyone.if.no.acl.found=true`, so resources without ACLs stay open and each test closes
only the topics and groups it names (unique names: the broker is shared by the module). ACLs are
added through confluent-kafka's admin client, kafka-python's and `runnel acl`, and each refusal is
the error Kafka answers: TOPIC_AUTHORIZATION_FAILED (29) for topics, GROUP_AUTHORIZATION_FAILED
(30) for groups. Per-user tests need SASL (other principals than ANONYMOUS) and come with it.
"""
from __future__ import annotations

import json
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation, AclPermissionType, ResourcePatternType,
                                   ResourceType)
from kafka import KafkaAdminClient
from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePatternFilter)
from kafka.admin import ResourceType as KpResourceType

from conftest import runnel_bin
from interop_support import CLIENT_TIMEOUT_S, ck_admin, ck_consume, ck_create_topic, unique_topic, wait_until

BROKER_OVERRIDES = {
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found": "true",
}
CLUSTER_OVERRIDES = BROKER_OVERRIDES
ANON = "User:ANONYMOUS"
CLI_TIMEOUT_S = 60


def runnel(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([runnel_bin(), *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


def add_acls(bootstrap: str, bindings: list[AclBinding]) -> None:
    admin = ck_admin(bootstrap)  # kept alive until the futures complete
    results = admin.create_acls(bindings, request_timeout=CLIENT_TIMEOUT_S)
    for binding, future in results.items():
        assert future.result(timeout=CLIENT_TIMEOUT_S) is None, binding


def topic_acl(name: str, operation: AclOperation, permission: AclPermissionType,
              pattern: ResourcePatternType = ResourcePatternType.LITERAL, principal: str = ANON) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, name, pattern, principal, "*", operation, permission)


def produce_one(bootstrap: str, topic: str) -> KafkaError | None:
    """Produces one record; returns the delivery error (None when it was acknowledged)."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "message.timeout.ms": 20000,
                         "socket.timeout.ms": 10000})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, value=b"v", on_delivery=lambda err, msg: outcome.append(err))
    remaining = producer.flush(CLIENT_TIMEOUT_S)
    assert remaining == 0 and len(outcome) == 1, f"no delivery report for {topic}"
    return outcome[0]


def assert_refused_produce(bootstrap: str, topic: str) -> None:
    err = produce_one(bootstrap, topic)
    assert err is not None, f"produce to {topic} was acknowledged"
    assert err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, f"{topic}: {err}"


@pytest.mark.deadline(120)
def test_deny_write_refuses_produce_and_other_topics_work(module_broker):
    bootstrap = module_broker.bootstrap
    secret, other = unique_topic("secret"), unique_topic("open")
    ck_create_topic(bootstrap, secret, 1)
    ck_create_topic(bootstrap, other, 1)
    # Everyone may see and read `secret`; the anonymous principal may not write it.
    add_acls(bootstrap, [topic_acl(secret, AclOperation.DESCRIBE, AclPermissionType.ALLOW, principal="User:*"),
                         topic_acl(secret, AclOperation.READ, AclPermissionType.ALLOW, principal="User:*"),
                         topic_acl(secret, AclOperation.WRITE, AclPermissionType.DENY)])
    assert_refused_produce(bootstrap, secret)
    assert produce_one(bootstrap, other) is None
    # Reading `secret` is still allowed (nothing was written to it).
    assert ck_consume(bootstrap, secret, [0]) == {0: []}


@pytest.mark.deadline(120)
def test_prefixed_deny_covers_a_family_of_topics(module_broker):
    bootstrap = module_broker.bootstrap
    family = unique_topic("fam") + "-"
    members, outsider = [family + "a", family + "b"], family[:-1] + "x"
    for t in members + [outsider]:
        ck_create_topic(bootstrap, t, 1)
    for args in (["--allow-principal", "User:*", "--operation", "DESCRIBE"],
                 ["--deny-principal", ANON, "--operation", "WRITE"]):
        out = runnel("acl", "add", "-b", bootstrap, "--topic", family, "--resource-pattern-type", "prefixed", *args)
        assert out.returncode == 0, out.stderr
        assert "PREFIXED:" + family in out.stdout
    for t in members:
        assert_refused_produce(bootstrap, t)
    assert produce_one(bootstrap, outsider) is None


@pytest.mark.deadline(120)
def test_a_consumer_denied_read_on_its_group_gets_group_authorization_failed(module_broker):
    bootstrap = module_broker.bootstrap
    topic, group = unique_topic("grp-topic"), unique_topic("denied-group")
    ck_create_topic(bootstrap, topic, 1)
    add_acls(bootstrap, [AclBinding(ResourceType.GROUP, group, ResourcePatternType.LITERAL, ANON, "*",
                                    AclOperation.READ, AclPermissionType.DENY)])
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "socket.timeout.ms": 10000, "session.timeout.ms": 10000})
    try:
        consumer.subscribe([topic])
        errors = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not errors:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error():
                errors.append(msg.error())
        assert errors, "the consumer saw no error"
        assert errors[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED, errors[0]
    finally:
        consumer.close()


@pytest.mark.deadline(120)
def test_metadata_hides_a_topic_denied_describe(module_broker):
    bootstrap = module_broker.bootstrap
    hidden, shown = unique_topic("hidden"), unique_topic("shown")
    ck_create_topic(bootstrap, hidden, 1)
    ck_create_topic(bootstrap, shown, 1)
    add_acls(bootstrap, [topic_acl(hidden, AclOperation.DESCRIBE, AclPermissionType.DENY)])
    ck = ck_admin(bootstrap)
    listed = ck.list_topics(timeout=CLIENT_TIMEOUT_S).topics
    assert shown in listed and hidden not in listed
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(CLIENT_TIMEOUT_S * 1000))
    try:
        names = admin.list_topics()
        assert shown in names and hidden not in names
    finally:
        admin.close()
    # Named explicitly, it is refused rather than reported missing.
    named = ck.list_topics(topic=hidden, timeout=CLIENT_TIMEOUT_S).topics[hidden]
    assert named.error is not None and named.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


@pytest.mark.deadline(120)
def test_a_deny_beats_an_allow(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("deny-wins")
    ck_create_topic(bootstrap, topic, 1)
    add_acls(bootstrap, [topic_acl(topic, AclOperation.ALL, AclPermissionType.ALLOW)])
    assert produce_one(bootstrap, topic) is None
    add_acls(bootstrap, [topic_acl(topic, AclOperation.WRITE, AclPermissionType.DENY)])
    assert_refused_produce(bootstrap, topic)
    # ALL still allows READ: the record written before the DENY comes back.
    got = ck_consume(bootstrap, topic, [0], expected={0: 1})
    assert [r.value for r in got[0]] == [b"v"]


@pytest.mark.deadline(120)
def test_acls_are_listed_and_deleted_through_admin_clients_and_the_cli(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("listed")
    add_acls(bootstrap, [topic_acl(topic, AclOperation.READ, AclPermissionType.ALLOW, principal="User:alice"),
                         topic_acl(topic, AclOperation.WRITE, AclPermissionType.DENY, principal="User:bob"),
                         topic_acl(topic, AclOperation.WRITE, AclPermissionType.ALLOW, ResourcePatternType.PREFIXED,
                                   principal="User:alice")])
    # kafka-python's DescribeAcls with a MATCH filter: the literal and the prefixed ACLs.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(CLIENT_TIMEOUT_S * 1000))
    try:
        match = ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                          resource_pattern=ResourcePatternFilter(KpResourceType.TOPIC, topic, ACLResourcePatternType.MATCH))
        acls, error = admin.describe_acls(match)
        assert error.errno == 0
        assert sorted((a.principal, a.operation.name, a.permission_type.name, a.resource_pattern.pattern_type.name)
                      for a in acls) == [("User:alice", "READ", "ALLOW", "LITERAL"),
                                         ("User:alice", "WRITE", "ALLOW", "PREFIXED"),
                                         ("User:bob", "WRITE", "DENY", "LITERAL")]
        # kafka-python's DeleteAcls: bob's DENY.
        bob = ACLFilter(principal="User:bob", host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                        resource_pattern=ResourcePatternFilter(KpResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL))
        [(_, matched, error)] = admin.delete_acls([bob])
        assert error.errno == 0 and [m.principal for m in matched] == ["User:bob"]
    finally:
        admin.close()
    # runnel acl list (JSON) shows what is left of the literal resource; runnel acl delete removes it.
    out = runnel("acl", "list", "-b", bootstrap, "--topic", topic, "--json")
    assert out.returncode == 0, out.stderr
    assert [(e["principal"], e["operation"], e["permission"]) for e in json.loads(out.stdout)] == [("User:alice", "READ", "ALLOW")]
    out = runnel("acl", "delete", "-b", bootstrap, "--topic", topic)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"deleted ALLOW User:alice READ TOPIC:LITERAL:{topic} from *"
    # confluent-kafka's DeleteAcls removes the prefixed one; then nothing of the topic is left.
    prefixed = AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.PREFIXED, None, None,
                                AclOperation.ANY, AclPermissionType.ANY)
    ck = ck_admin(bootstrap)
    removed = ck.delete_acls([prefixed], request_timeout=CLIENT_TIMEOUT_S)[prefixed].result(timeout=CLIENT_TIMEOUT_S)
    assert [(b.principal, b.operation) for b in removed] == [("User:alice", AclOperation.WRITE)]
    any_of_topic = AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.MATCH, None, None,
                                    AclOperation.ANY, AclPermissionType.ANY)
    assert ck.describe_acls(any_of_topic, request_timeout=CLIENT_TIMEOUT_S).result(timeout=CLIENT_TIMEOUT_S) == []


def cluster_acl(operation: AclOperation) -> AclBinding:
    return AclBinding(ResourceType.BROKER, "kafka-cluster", ResourcePatternType.LITERAL, ANON, "*", operation,
                      AclPermissionType.ALLOW)


@pytest.mark.deadline(180)
def test_a_cluster_agrees_on_acls_and_keeps_replicating(module_cluster):
    """Three nodes: ACLs added through each node reach the controller (forwarded) and every node
    applies them; once the cluster resource has ACLs, followers need CLUSTER_ACTION (D182), and
    with it granted an RF=3 acks=all topic keeps all three replicas in sync."""
    nodes = module_cluster.nodes
    topic, replicated = unique_topic("c-secret"), unique_topic("c-rf3")
    from confluent_kafka.admin import NewTopic
    admin = ck_admin(nodes[1].bootstrap)
    for t in (topic, replicated):
        admin.create_topics([NewTopic(t, num_partitions=1, replication_factor=3)],
                            request_timeout=CLIENT_TIMEOUT_S)[t].result(timeout=CLIENT_TIMEOUT_S)
    # One ACL through each node: whichever is the controller, the others forward theirs.
    add_acls(nodes[0].bootstrap, [topic_acl(topic, AclOperation.WRITE, AclPermissionType.DENY)])
    add_acls(nodes[1].bootstrap, [topic_acl(topic, AclOperation.DESCRIBE, AclPermissionType.ALLOW, principal="User:*")])
    add_acls(nodes[2].bootstrap, [cluster_acl(AclOperation.ALTER), cluster_acl(AclOperation.DESCRIBE),
                                  cluster_acl(AclOperation.CLUSTER_ACTION), cluster_acl(AclOperation.CREATE)])
    everything = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                                  AclPermissionType.ANY)

    def seen_by_every_node():
        counts = []
        for node in nodes:
            ck = ck_admin(node.bootstrap)
            counts.append(len(ck.describe_acls(everything, request_timeout=CLIENT_TIMEOUT_S).result(timeout=CLIENT_TIMEOUT_S)))
        return counts if all(c == 6 for c in counts) else None

    wait_until(seen_by_every_node, 20, "every node to list the 6 ACLs")
    for node in nodes:
        assert_refused_produce(node.bootstrap, topic)
    # Followers fetch with CLUSTER_ACTION: acks=all on RF=3 is acknowledged and the ISR stays whole.
    assert produce_one(module_cluster.bootstrap, replicated) is None

    def isr():
        md = ck_admin(nodes[0].bootstrap).list_topics(topic=replicated, timeout=CLIENT_TIMEOUT_S).topics[replicated]
        return sorted(md.partitions[0].isrs)

    assert isr() == [1, 2, 3]
