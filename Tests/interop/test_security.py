"""Security end to end (issue 14): SASL over TLS (SASL_SSL) with PLAIN, SCRAM-SHA-256 and
SCRAM-SHA-512 from confluent-kafka, kafka-python, aiokafka and kcat, and ACLs that name the
authenticated users (ALLOW by prefix, a DENY that beats an ALLOW, a producer without WRITE, a
consumer without READ on its group).

One broker: a PLAINTEXT listener on 127.0.0.1 that is the operator's (User:ANONYMOUS is a super
user, so the first users and ACLs are made over it, as with Kafka's bootstrap listener) and a
SASL_SSL listener for the clients. Certificates come from scripts/make-test-certs.sh, made for the
run; nothing secret is committed.
"""
from __future__ import annotations

import asyncio
import atexit
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import _VISIBLE_BROKERS, Broker, free_port, runnel_bin
from interop_support import CLIENT_TIMEOUT_S, unique_topic, wait_until

REPO = Path(__file__).resolve().parents[2]
CERTS = Path(tempfile.mkdtemp(prefix="runnel-security-certs-"))
atexit.register(shutil.rmtree, CERTS, True)
subprocess.run(["sh", str(REPO / "scripts" / "make-test-certs.sh"), str(CERTS)], check=True,
               capture_output=True, timeout=120)

MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
USERS = {"dave": "dave-pw", "alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}
TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30


def runnel(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([runnel_bin(), *args], capture_output=True, text=True, timeout=timeout)


def ok(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 0, f"{out.args}: {out.stderr}"
    return out.stdout


@pytest.fixture(scope="module")
def secure():
    sasl_port = free_port()
    b = Broker(runnel_bin(), {
        "num.partitions": "1",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
        "ssl.keystore.location": str(CERTS / "broker.pem"),
        "ssl.truststore.location": str(CERTS / "ca.pem"),
        "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        "authorizer.class.name": "runnel",
        "super.users": "User:ANONYMOUS",
    }, "security")
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{b.port},SASL_SSL://127.0.0.1:{sasl_port}"
    _VISIBLE_BROKERS.append(b)
    try:
        b.start()
        admin = b.bootstrap
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            for user, password in USERS.items():
                ok(runnel("user", "add", user, "--password", password, "--mechanism", mechanism, "-b", admin))
        # dave may do everything with topics and groups named sec-*; alice writes orders-*
        # but not orders-secret; bob reads orders-* in group billing; carol has nothing.
        acl = lambda *a: ok(runnel("acl", "add", *a, "-b", admin))
        acl("--allow-principal", "User:dave", "--operation", "ALL", "--topic", "sec-", "--group", "sec-",
            "--resource-pattern-type", "prefixed")
        acl("--allow-principal", "User:alice", "--operation", "WRITE", "--topic", "orders-",
            "--resource-pattern-type", "prefixed")
        acl("--deny-principal", "User:alice", "--operation", "WRITE", "--topic", "orders-secret")
        acl("--allow-principal", "User:bob", "--operation", "READ", "--topic", "orders-",
            "--resource-pattern-type", "prefixed")
        acl("--allow-principal", "User:bob", "--operation", "READ", "--group", "billing")
        for t in ("orders-a", "orders-secret", "payments"):
            ok(runnel("topic", "create", t, "-p", "1", "-b", admin))
        yield b, f"localhost:{sasl_port}"
    finally:
        if b in _VISIBLE_BROKERS:
            _VISIBLE_BROKERS.remove(b)
        b.close()


def ck_conf(bootstrap: str, user: str, mechanism: str = "SCRAM-SHA-512", password: str | None = None) -> dict:
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL", "ssl.ca.location": str(CERTS / "ca.pem"),
            "sasl.mechanism": mechanism, "sasl.username": user,
            "sasl.password": USERS.get(user, "x") if password is None else password}


def ck_produce(conf: dict, topic: str, values: list[bytes]) -> list[str]:
    """Errors of the delivery reports (empty when every record was acknowledged)."""
    from confluent_kafka import Producer
    p = Producer({**conf, "acks": "all", "message.timeout.ms": 15000, "retries": 0})
    errors: list[str] = []
    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=lambda err, msg: err and errors.append(err))
    remaining = p.flush(CLIENT_TIMEOUT_S)
    assert remaining == 0, f"{remaining} records neither acknowledged nor refused"
    return errors


def ck_consume(conf: dict, topic: str, group: str, n: int) -> tuple[list[bytes], list]:
    from confluent_kafka import Consumer
    c = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": True})
    got, errors = [], []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while len(got) < n and not errors and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                errors.append(msg.error())
            else:
                got.append(msg.value())
        return got, errors
    finally:
        c.close()


VALUES = [f"value-{i}".encode() for i in range(10)]


# ------------------------------------------------------------------- clients over SASL_SSL

@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_over_sasl_ssl(secure, mechanism):
    _, bootstrap = secure
    topic = unique_topic("sec-ck")
    conf = ck_conf(bootstrap, "dave", mechanism)
    assert ck_produce({**conf, "allow.auto.create.topics": True}, topic, VALUES) == []
    got, errors = ck_consume(conf, topic, unique_topic("sec-g"), len(VALUES))
    assert not errors and got == VALUES


def kp_conf(bootstrap: str, mechanism: str) -> dict:
    return {"bootstrap_servers": bootstrap, "security_protocol": "SASL_SSL", "ssl_cafile": str(CERTS / "ca.pem"),
            "sasl_mechanism": mechanism, "sasl_plain_username": "dave", "sasl_plain_password": USERS["dave"]}


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kafka_python_over_sasl_ssl(secure, mechanism):
    from kafka import KafkaConsumer, KafkaProducer
    _, bootstrap = secure
    topic = unique_topic("sec-kp")
    producer = KafkaProducer(acks="all", **kp_conf(bootstrap, mechanism))
    try:
        for v in VALUES:
            producer.send(topic, v, partition=0).get(timeout=CLIENT_TIMEOUT_S)
    finally:
        producer.close(timeout=10)
    consumer = KafkaConsumer(topic, group_id=unique_topic("sec-g"), auto_offset_reset="earliest",
                             consumer_timeout_ms=15000, **kp_conf(bootstrap, mechanism))
    try:
        got = []
        for msg in consumer:
            got.append(msg.value)
            if len(got) == len(VALUES):
                break
    finally:
        consumer.close()
    assert got == VALUES


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_aiokafka_over_sasl_ssl(secure, mechanism):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.helpers import create_ssl_context
    _, bootstrap = secure
    topic = unique_topic("sec-aio")

    async def run() -> list[bytes]:
        common = dict(bootstrap_servers=bootstrap, security_protocol="SASL_SSL",
                      ssl_context=create_ssl_context(cafile=str(CERTS / "ca.pem")), sasl_mechanism=mechanism,
                      sasl_plain_username="dave", sasl_plain_password=USERS["dave"])
        producer = AIOKafkaProducer(acks="all", **common)
        await producer.start()
        try:
            for v in VALUES:
                await producer.send_and_wait(topic, v, partition=0)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, group_id=unique_topic("sec-g"), auto_offset_reset="earliest", **common)
        await consumer.start()
        got = []
        try:
            while len(got) < len(VALUES):
                batch = await consumer.getmany(timeout_ms=1000)
                got += [m.value for msgs in batch.values() for m in msgs]
        finally:
            await consumer.stop()
        return got

    assert asyncio.run(asyncio.wait_for(run(), CLIENT_TIMEOUT_S)) == VALUES


def test_kcat_over_sasl_ssl(secure):
    _, bootstrap = secure
    topic = unique_topic("sec-kcat")
    conf = ["-X", "security.protocol=SASL_SSL", "-X", f"ssl.ca.location={CERTS / 'ca.pem'}",
            "-X", "sasl.mechanism=SCRAM-SHA-256", "-X", "sasl.username=dave", "-X", f"sasl.password={USERS['dave']}"]
    out = subprocess.run(["kcat", "-b", bootstrap, *conf, "-P", "-t", topic, "-p", "0"],
                         input="one\ntwo\nthree\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(["kcat", "-b", bootstrap, *conf, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.split() == ["one", "two", "three"], (out.stdout, out.stderr)


def test_the_cli_over_sasl_ssl_with_a_command_config(secure, tmp_path):
    _, bootstrap = secure
    props = tmp_path / "client.properties"
    props.write_text("security.protocol=SASL_SSL\n"
                     f"ssl.truststore.location={CERTS / 'ca.pem'}\n"
                     "sasl.mechanism=SCRAM-SHA-512\n"
                     'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required '
                     f'username="dave" password="{USERS["dave"]}";\n')
    topic = unique_topic("sec-cli")
    ok(runnel("topic", "create", topic, "-p", "1", "-b", bootstrap, "--command-config", str(props)))
    out = subprocess.run([runnel_bin(), "produce", topic, "-b", bootstrap, "--command-config", str(props)],
                         input="a\nb\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    out = ok(runnel("consume", topic, "-b", bootstrap, "--command-config", str(props), "-n", "2"))
    assert out.split() == ["a", "b"]


def test_a_wrong_password_and_an_unknown_user_are_refused_over_sasl_ssl(secure):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    broker, bootstrap = secure
    before = broker.log_text().count("SASL authentication failed")
    for user, password in (("dave", "wrong"), ("mallory", "anything")):
        errors: list[str] = []
        admin = AdminClient({**ck_conf(bootstrap, user, "SCRAM-SHA-256", password),
                             "error_cb": lambda e: errors.append(str(e))})
        with pytest.raises(KafkaException):
            admin.list_topics(timeout=5)
        wait_until(lambda: admin.poll(0.2) is not None and errors, 10, "an error callback")
        assert "Authentication failed" in " ".join(errors), errors
    assert broker.log_text().count("SASL authentication failed") > before
    # and the broker serves the others
    assert ck_produce(ck_conf(bootstrap, "dave"), unique_topic("sec-after"), VALUES[:1]) == []


# ------------------------------------------------------------------------------------ ACLs

def test_a_prefixed_allow_lets_alice_write_a_family_of_topics(secure):
    _, bootstrap = secure
    assert ck_produce(ck_conf(bootstrap, "alice"), "orders-a", VALUES[:3]) == []


def test_a_deny_beats_an_allow(secure):
    _, bootstrap = secure
    errors = ck_produce(ck_conf(bootstrap, "alice"), "orders-secret", VALUES[:1])
    assert [e.code() for e in errors] == [TOPIC_AUTHORIZATION_FAILED]


def test_a_producer_without_write_is_refused(secure):
    _, bootstrap = secure
    for user, topic in (("alice", "payments"), ("carol", "orders-a"), ("bob", "orders-a")):
        errors = ck_produce(ck_conf(bootstrap, user), topic, VALUES[:1])
        assert [e.code() for e in errors] == [TOPIC_AUTHORIZATION_FAILED], (user, topic, errors)


def test_a_consumer_without_read_on_its_group_is_refused(secure):
    _, bootstrap = secure
    assert ck_produce(ck_conf(bootstrap, "alice"), "orders-a", VALUES[:2]) == []
    got, errors = ck_consume(ck_conf(bootstrap, "bob"), "orders-a", "billing", 2)
    assert not errors and len(got) >= 2
    got, errors = ck_consume(ck_conf(bootstrap, "bob"), "orders-a", "not-billing", 1)
    assert got == [] and [e.code() for e in errors][:1] == [GROUP_AUTHORIZATION_FAILED], errors


def test_metadata_shows_each_user_only_the_topics_it_may_describe(secure):
    from confluent_kafka.admin import AdminClient
    _, bootstrap = secure
    topics = lambda user: set(AdminClient(ck_conf(bootstrap, user)).list_topics(timeout=10).topics)
    assert {"orders-a", "orders-secret"} <= topics("alice") and "payments" not in topics("alice")
    assert topics("carol") == set()
