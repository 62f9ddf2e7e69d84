"""SASL over SASL_PLAINTEXT (docs/decisions.md D170-D176): confluent-kafka, kafka-python, aiokafka
and kcat authenticate with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 and produce and consume; a wrong
password and an unknown user are refused with SASL_AUTHENTICATION_FAILED while the broker keeps
serving others; on a three-node cluster a user added through one broker authenticates at another.

Each broker has two client listeners: PLAINTEXT on 127.0.0.1 (how the first user is created, as
with Kafka, D175) and SASL_PLAINTEXT. Metadata answers with the listener a request came in on, so
SASL clients stay on SASL ports."""
from __future__ import annotations

import asyncio
import logging
import subprocess
import time

import pytest

from conftest import _VISIBLE_BROKERS, Broker, Cluster, free_port, runnel_bin
from interop_support import CLIENT_TIMEOUT_S, unique_topic, wait_until

MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
USER, PASSWORD = "alice", "alice-secret"
SASL_OVERRIDES = {"sasl.enabled.mechanisms": ",".join(MECHANISMS)}


def runnel(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([runnel_bin(), *args], capture_output=True, text=True, timeout=timeout)


def add_user(bootstrap: str, name: str, password: str) -> None:
    out = runnel("user", "add", name, "--password", password, "-b", bootstrap)
    assert out.returncode == 0, out.stderr


def sasl_broker(name: str) -> tuple[Broker, int]:
    b = Broker(runnel_bin(), SASL_OVERRIDES, name)
    sasl_port = free_port()
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
    _VISIBLE_BROKERS.append(b)
    try:
        b.start()
    except BaseException:
        b.close()
        _VISIBLE_BROKERS.remove(b)
        raise
    return b, sasl_port


@pytest.fixture(scope="module")
def sasl(request):
    b, sasl_port = sasl_broker(f"{request.module.__name__}-shared")
    add_user(b.bootstrap, USER, PASSWORD)
    yield b, f"127.0.0.1:{sasl_port}"
    if b in _VISIBLE_BROKERS:
        _VISIBLE_BROKERS.remove(b)
    b.close()


def ck_conf(bootstrap: str, mechanism: str, user: str = USER, password: str = PASSWORD) -> dict:
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
            "sasl.username": user, "sasl.password": password}


def create_topic(plaintext: str, topic: str) -> None:
    out = runnel("topic", "create", topic, "-p", "1", "-b", plaintext)
    assert out.returncode == 0, out.stderr


VALUES = [f"v{i}".encode() for i in range(20)]


def ck_roundtrip(bootstrap: str, mechanism: str, topic: str) -> list[bytes]:
    from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
    p = Producer({**ck_conf(bootstrap, mechanism), "acks": "all", "message.timeout.ms": int(CLIENT_TIMEOUT_S * 1000)})
    errors = []
    for v in VALUES:
        p.produce(topic, value=v, partition=0, on_delivery=lambda err, msg: err and errors.append(str(err)))
    assert p.flush(CLIENT_TIMEOUT_S) == 0 and not errors, errors
    c = Consumer({**ck_conf(bootstrap, mechanism), "group.id": unique_topic("sasl"), "enable.auto.commit": False,
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        got: list[bytes] = []
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while len(got) < len(VALUES) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
                continue
            assert not m.error(), m.error()
            got.append(m.value())
        return got
    finally:
        c.close()


def kp_conf(bootstrap: str, mechanism: str, user: str = USER, password: str = PASSWORD) -> dict:
    return dict(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                sasl_plain_username=user, sasl_plain_password=password)


def kp_roundtrip(bootstrap: str, mechanism: str, topic: str) -> list[bytes]:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    producer = KafkaProducer(acks="all", **kp_conf(bootstrap, mechanism))
    try:
        for v in VALUES:
            producer.send(topic, value=v, partition=0).get(timeout=CLIENT_TIMEOUT_S)
    finally:
        producer.close()
    consumer = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=2000, **kp_conf(bootstrap, mechanism))
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        got: list[bytes] = []
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while len(got) < len(VALUES) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got += [r.value for r in records]
        return got
    finally:
        consumer.close()


def aio_conf(bootstrap: str, mechanism: str, user: str = USER, password: str = PASSWORD) -> dict:
    return dict(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                sasl_plain_username=user, sasl_plain_password=password)


def aio_roundtrip(bootstrap: str, mechanism: str, topic: str) -> list[bytes]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    async def run() -> list[bytes]:
        producer = AIOKafkaProducer(acks="all", **aio_conf(bootstrap, mechanism))
        await producer.start()
        try:
            for v in VALUES:
                await producer.send_and_wait(topic, value=v, partition=0)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(enable_auto_commit=False, **aio_conf(bootstrap, mechanism))
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            consumer.seek(tp, 0)
            got: list[bytes] = []
            deadline = time.monotonic() + CLIENT_TIMEOUT_S
            while len(got) < len(VALUES) and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got += [r.value for r in records]
            return got
        finally:
            await consumer.stop()

    return asyncio.run(asyncio.wait_for(run(), CLIENT_TIMEOUT_S * 2))


ROUNDTRIPS = {"confluent": ck_roundtrip, "kafka-python": kp_roundtrip, "aiokafka": aio_roundtrip}


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("client", list(ROUNDTRIPS))
def test_produce_and_consume_over_sasl(sasl, client, mechanism):
    broker, bootstrap = sasl
    topic = unique_topic(f"sasl-{client}-{mechanism}")
    create_topic(broker.bootstrap, topic)
    assert ROUNDTRIPS[client](bootstrap, mechanism, topic) == VALUES


def ck_refusal(bootstrap: str, mechanism: str, user: str, password: str) -> str:
    """What confluent-kafka reports when authentication fails (it never gets metadata)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    errors: list[str] = []
    admin = AdminClient({**ck_conf(bootstrap, mechanism, user, password), "error_cb": lambda e: errors.append(str(e))})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    wait_until(lambda: admin.poll(0.2) is not None and errors, 10, "an error callback")
    return " ".join(errors)


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("who", ["wrong-password", "unknown-user"])
def test_bad_credentials_are_refused_and_others_keep_working(sasl, mechanism, who, caplog):
    broker, bootstrap = sasl
    user, password = (USER, "not-the-password") if who == "wrong-password" else ("mallory", PASSWORD)
    before = broker.log_text().count("SASL authentication failed")

    # confluent-kafka: librdkafka reports the broker's SASL_AUTHENTICATION_FAILED message.
    text = ck_refusal(bootstrap, mechanism, user, password)
    assert "Authentication failed" in text, text

    # kafka-python: it logs the SaslAuthenticate error (SaslAuthenticationFailedError, error 58)
    # with the broker's message and gives up bootstrapping.
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError as KpError
    caplog.set_level(logging.WARNING, logger="kafka")
    with pytest.raises(KpError):
        KafkaConsumer(request_timeout_ms=5000, **kp_conf(bootstrap, mechanism, user, password)).topics()
    assert "Authentication failed" in caplog.text, caplog.text[-2000:]

    # aiokafka: start() fails.
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError as AioError

    async def aio() -> BaseException:
        p = AIOKafkaProducer(request_timeout_ms=5000, **aio_conf(bootstrap, mechanism, user, password))
        try:
            await p.start()
        except AioError as e:
            return e
        finally:
            await p.stop()
        raise AssertionError("aiokafka authenticated with bad credentials")
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="aiokafka")
    error = asyncio.run(asyncio.wait_for(aio(), 30))
    # aiokafka wraps it in "Unable to bootstrap" and logs the broker's SASL error.
    assert "Authentication failed" in str(error) + caplog.text, (repr(error), caplog.text[-2000:])

    # One log line per refusal, naming the user and mechanism.
    wait_until(lambda: broker.log_text().count("SASL authentication failed") > before, 10, "the refusal's log line")
    assert f"SASL authentication failed for user '{user}' with {mechanism}" in broker.log_text()
    # The broker still serves the real user.
    topic = unique_topic("sasl-after-refusal")
    create_topic(broker.bootstrap, topic)
    assert ck_roundtrip(bootstrap, mechanism, topic) == VALUES


def test_unauthenticated_requests_are_closed(sasl):
    """A Kafka client speaking PLAINTEXT to the SASL listener: its Metadata closes the connection."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka import KafkaException
    broker, bootstrap = sasl
    admin = AdminClient({"bootstrap.servers": bootstrap})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=3)
    wait_until(lambda: "before SASL authentication" in broker.log_text(), 10, "the gate's log line")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kcat(sasl, mechanism):
    broker, bootstrap = sasl
    topic = unique_topic(f"sasl-kcat-{mechanism}")
    create_topic(broker.bootstrap, topic)
    sec = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanism={mechanism}",
           "-X", f"sasl.username={USER}", "-X", f"sasl.password={PASSWORD}"]
    produced = subprocess.run(["kcat", "-b", bootstrap, *sec, "-P", "-t", topic, "-p", "0"],
                              input="one\ntwo\nthree\n", capture_output=True, text=True, timeout=60)
    assert produced.returncode == 0, produced.stderr
    consumed = subprocess.run(["kcat", "-b", bootstrap, *sec, "-C", "-t", topic, "-o", "beginning", "-e", "-c", "3"],
                              capture_output=True, text=True, timeout=60)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.split() == ["one", "two", "three"]
    bad = subprocess.run(["kcat", "-b", bootstrap, *sec[:-1], "sasl.password=wrong", "-L", "-m", "3"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "Authentication failed" in bad.stderr, bad.stderr


def test_runnel_cli_over_sasl(sasl):
    broker, bootstrap = sasl
    topic = unique_topic("sasl-cli")
    flags = ["-b", bootstrap, "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", USER, "--sasl-password", PASSWORD]
    assert runnel("topic", "create", topic, *flags).returncode == 0
    listed = runnel("user", "list", "--json", *flags)
    assert listed.returncode == 0 and '"user":"alice"' in listed.stdout.replace(" ", ""), listed
    bad = runnel("topic", "list", *flags[:-1], "nope")
    assert bad.returncode == 1 and "SASL_AUTHENTICATION_FAILED" in bad.stderr, bad.stderr


def test_user_added_through_one_broker_authenticates_at_another():
    cluster = Cluster(runnel_bin(), 3, SASL_OVERRIDES, "sasl-cluster")
    sasl_ports = []
    for node in cluster.nodes:
        port = free_port()
        sasl_ports.append(port)
        controller = node.overrides["listeners"].split(",")[1]
        node.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{node.port},SASL_PLAINTEXT://127.0.0.1:{port},{controller}"
        node.overrides["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{node.port},SASL_PLAINTEXT://127.0.0.1:{port}"
    _VISIBLE_BROKERS.extend(cluster.nodes)
    try:
        cluster.start()
        add_user(cluster.nodes[0].bootstrap, "bob", "bob-secret")
        topic = unique_topic("sasl-cluster")
        out = runnel("topic", "create", topic, "-p", "1", "-r", "3", "-b", cluster.nodes[0].bootstrap)
        assert out.returncode == 0, out.stderr
        third = f"127.0.0.1:{sasl_ports[2]}"

        def authenticates() -> bool:
            return runnel("topic", "list", "-b", third, "--sasl-mechanism", "SCRAM-SHA-256",
                          "--sasl-username", "bob", "--sasl-password", "bob-secret", timeout=30).returncode == 0
        wait_until(authenticates, 30, "bob to authenticate at node 3")
        # A real client bootstrapped at node 3 follows SASL listeners to whichever node leads.
        from confluent_kafka import Producer
        p = Producer({**ck_conf(third, "SCRAM-SHA-512", "bob", "bob-secret"), "acks": "all"})
        errors: list[str] = []
        p.produce(topic, value=b"x", on_delivery=lambda err, msg: err and errors.append(str(err)))
        assert p.flush(CLIENT_TIMEOUT_S) == 0 and not errors, errors
    finally:
        for node in cluster.nodes:
            if node in _VISIBLE_BROKERS:
                _VISIBLE_BROKERS.remove(node)
        cluster.close()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "PLAIN"])
def test_reauthentication_keeps_a_long_lived_producer_connected(mechanism):
    """KIP-368: with connections.max.reauth.ms the broker tells clients their session lifetime;
    librdkafka re-authenticates on the live connection before it ends, so a producer that runs for
    several lifetimes loses nothing and its connection is never closed for expiry."""
    b = Broker(runnel_bin(), {**SASL_OVERRIDES, "connections.max.reauth.ms": "1500"}, "sasl-reauth")
    sasl_port = free_port()
    b.overrides["listeners"] = f"PLAINTEXT://127.0.0.1:{b.port},SASL_PLAINTEXT://127.0.0.1:{sasl_port}"
    _VISIBLE_BROKERS.append(b)
    try:
        b.start()
        add_user(b.bootstrap, USER, PASSWORD)
        topic = unique_topic("sasl-reauth")
        create_topic(b.bootstrap, topic)
        from confluent_kafka import Producer
        p = Producer({**ck_conf(f"127.0.0.1:{sasl_port}", mechanism), "acks": "all"})
        errors: list[str] = []
        end = time.monotonic() + 5  # more than three session lifetimes
        sent = 0
        while time.monotonic() < end:
            p.produce(topic, value=str(sent).encode(), partition=0,
                      on_delivery=lambda err, msg: err and errors.append(str(err)))
            sent += 1
            p.poll(0.05)
        assert p.flush(CLIENT_TIMEOUT_S) == 0 and not errors, errors
        log = b.log_text()
        assert "expired" not in log, log[-3000:]
        assert "SASL authentication failed" not in log, log[-3000:]
    finally:
        if b in _VISIBLE_BROKERS:
            _VISIBLE_BROKERS.remove(b)
        b.close()
