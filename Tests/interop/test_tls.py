"""TLS listeners (issue 14): confluent-kafka, kafka-python, aiokafka, kcat and the `runnel` CLI over
SSL; mTLS (`ssl.client.auth=required`, set for one listener with a `listener.name.` override)
refuses a client without a certificate, with an expired one and with one from another CA, and
the broker goes on serving; the principal of a client certificate is its subject as Kafka names
it; bad key, certificate and CA files stop start-up naming the key and the file; a three-node
cluster whose client, inter-broker and controller traffic all run on mTLS.

Certificates are made for the run by scripts/make-test-certs.sh (openssl), never committed.
"""
from __future__ import annotations

import asyncio
import atexit
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import Cluster, free_port, runnel_bin
from interop_support import (CLIENT_TIMEOUT_S, Rec, by_partition, ck_produce, recv_frame,
                             request_frame, unique_topic, wait_until)

REPO = Path(__file__).resolve().parents[2]
CERTS = Path(tempfile.mkdtemp(prefix="runnel-tls-certs-"))
atexit.register(shutil.rmtree, CERTS, True)
subprocess.run(["sh", str(REPO / "scripts" / "make-test-certs.sh"), str(CERTS)], check=True,
               capture_output=True, timeout=120)

SSL_PORT = free_port()
MTLS_PORT = free_port()
ASK_PORT = free_port()
ALICE = "User:CN=alice,OU=dev,O=Runnel,C=DE"

BROKER_OVERRIDES = {
    "num.partitions": "1",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,ASK:SSL,CONTROLLER:PLAINTEXT",
    "ssl.keystore.location": str(CERTS / "broker.pem"),
    "ssl.truststore.location": str(CERTS / "ca.pem"),
    "listener.name.mtls.ssl.client.auth": "required",
    "listener.name.ask.ssl.client.auth": "requested",
}


@pytest.fixture(scope="module")
def tls_broker(request):
    from conftest import _VISIBLE_BROKERS, Broker
    b = Broker(runnel_bin(), BROKER_OVERRIDES, "tls")
    _VISIBLE_BROKERS.append(b)
    b.overrides["listeners"] = (f"PLAINTEXT://127.0.0.1:{b.port},SSL://127.0.0.1:{SSL_PORT},"
                                f"MTLS://127.0.0.1:{MTLS_PORT},ASK://127.0.0.1:{ASK_PORT}")
    b.start()
    wait_until(lambda: all(_port_open(p) for p in (SSL_PORT, MTLS_PORT, ASK_PORT)), 20, "the TLS listeners")
    yield b
    b.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def ssl_bootstrap() -> str:
    return f"127.0.0.1:{SSL_PORT}"


def mtls_bootstrap() -> str:
    return f"localhost:{MTLS_PORT}"


def ck_ssl(extra: dict | None = None) -> dict:
    conf = {"security.protocol": "SSL", "ssl.ca.location": str(CERTS / "ca.pem")}
    conf.update(extra or {})
    return conf


def client_cert(name: str) -> dict:
    return {"ssl.certificate.location": str(CERTS / f"{name}-cert.pem"),
            "ssl.key.location": str(CERTS / f"{name}-key.pem")}


def records(tag: str, n: int = 20) -> list[Rec]:
    return [Rec(0, f"k{i}".encode(), f"{tag}-{i}".encode() * 10, (), 1_700_000_000_000 + i) for i in range(n)]


def ck_read(bootstrap: str, topic: str, n: int, conf: dict, partitions: int = 1) -> list[bytes]:
    """The first `n` values of `topic` (partitions 0..<partitions, each from its beginning) read
    with `conf`, in the order they arrive (per partition in offset order)."""
    return [v for _, v in ck_read_partitions(bootstrap, topic, n, conf, partitions)]


def ck_read_partitions(bootstrap: str, topic: str, n: int, conf: dict, partitions: int = 1) -> list[tuple[int, bytes]]:
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_topic("tls-read"),
                         "enable.auto.commit": False, "auto.offset.reset": "earliest", **conf})
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        got: list[tuple[int, bytes]] = []
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        while len(got) < n and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                got.append((msg.partition(), msg.value()))
        return got
    finally:
        consumer.close()


# ---------------------------------------------------------------------------- clients over SSL

def test_confluent_kafka_produces_and_consumes_over_ssl(tls_broker):
    topic = unique_topic("tls-ck")
    recs = records("ck")
    acks = ck_produce(ssl_bootstrap(), topic, recs, conf=ck_ssl())
    assert acks == {0: list(range(len(recs)))}
    assert ck_read(ssl_bootstrap(), topic, len(recs), ck_ssl()) == [r.value for r in recs]


def test_metadata_answers_with_the_listener_the_client_came_in_on(tls_broker):
    from confluent_kafka.admin import AdminClient
    for bootstrap, conf, port in [(tls_broker.bootstrap, {}, tls_broker.port),
                                  (ssl_bootstrap(), ck_ssl(), SSL_PORT)]:
        md = AdminClient({"bootstrap.servers": bootstrap, **conf}).list_topics(timeout=10)
        assert [(b.host, b.port) for b in md.brokers.values()] == [("127.0.0.1", port)]


def test_kafka_python_over_ssl(tls_broker):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    topic = unique_topic("tls-kp")
    producer = KafkaProducer(bootstrap_servers=ssl_bootstrap(), security_protocol="SSL",
                             ssl_cafile=str(CERTS / "ca.pem"), acks="all", request_timeout_ms=20000)
    for i in range(10):
        producer.send(topic, value=f"kp-{i}".encode(), partition=0).get(timeout=CLIENT_TIMEOUT_S)
    producer.close(timeout=10)
    consumer = KafkaConsumer(bootstrap_servers=ssl_bootstrap(), security_protocol="SSL",
                             ssl_cafile=str(CERTS / "ca.pem"), enable_auto_commit=False,
                             consumer_timeout_ms=10000)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    got = []
    for msg in consumer:
        got.append(msg.value)
        if len(got) == 10:
            break
    consumer.close()
    assert got == [f"kp-{i}".encode() for i in range(10)]


def test_aiokafka_over_ssl(tls_broker):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.helpers import create_ssl_context
    topic = unique_topic("tls-aio")

    async def run():
        context = create_ssl_context(cafile=str(CERTS / "ca.pem"))
        producer = AIOKafkaProducer(bootstrap_servers=ssl_bootstrap(), security_protocol="SSL",
                                    ssl_context=context, acks="all")
        await producer.start()
        try:
            for i in range(10):
                await producer.send_and_wait(topic, f"aio-{i}".encode(), partition=0)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=ssl_bootstrap(), security_protocol="SSL",
                                    ssl_context=context, enable_auto_commit=False)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            got = []
            deadline = time.monotonic() + CLIENT_TIMEOUT_S
            while len(got) < 10 and time.monotonic() < deadline:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                got += [m.value for m in batch.get(tp, [])]
            return got
        finally:
            await consumer.stop()

    assert asyncio.run(asyncio.wait_for(run(), 60)) == [f"aio-{i}".encode() for i in range(10)]


def kcat(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=60)


def test_kcat_over_ssl_and_mtls(tls_broker):
    topic = unique_topic("tls-kcat")
    lines = [f"kcat-{i}" for i in range(10)]
    tls = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={CERTS / 'ca.pem'}"]
    res = kcat("-P", "-b", ssl_bootstrap(), "-t", topic, "-p", "0", *tls, stdin="\n".join(lines).encode() + b"\n")
    assert res.returncode == 0 and b"ERROR" not in res.stderr, res.stderr.decode()
    mtls = tls + ["-X", f"ssl.certificate.location={CERTS / 'client-cert.pem'}",
                  "-X", f"ssl.key.location={CERTS / 'client-key.pem'}"]
    res = kcat("-C", "-q", "-b", mtls_bootstrap(), "-t", topic, "-p", "0", "-o", "beginning", "-e", *mtls)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().splitlines() == lines


def test_runnel_cli_over_ssl_and_mtls(tls_broker, tmp_path):
    props = tmp_path / "client.properties"
    props.write_text(f"security.protocol=SSL\nssl.truststore.location={CERTS / 'ca.pem'}\n"
                     f"ssl.keystore.location={CERTS / 'client.pem'}\n# a comment\nclient.id=ignored\n")
    topic = unique_topic("tls-cli")
    res = subprocess.run([runnel_bin(), "topic", "create", topic, "-p", "1", "-b", ssl_bootstrap(),
                          "--command-config", str(props)], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    for bootstrap in (ssl_bootstrap(), mtls_bootstrap()):
        res = subprocess.run([runnel_bin(), "produce", topic, "-b", bootstrap, "--command-config", str(props)],
                             input=b"one\ntwo\n", capture_output=True, timeout=60)
        assert res.returncode == 0, res.stderr.decode()
    res = subprocess.run([runnel_bin(), "consume", topic, "-b", mtls_bootstrap(), "--command-config", str(props),
                          "--exit-at-end"], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().splitlines() == ["one", "two", "one", "two"]


def test_runnel_bench_produces_over_mtls(tls_broker, tmp_path):
    import json
    props = tmp_path / "bench.properties"
    props.write_text(f"security.protocol=SSL\nssl.ca.location={CERTS / 'ca.pem'}\n"
                     f"ssl.certificate.location={CERTS / 'client-cert.pem'}\nssl.key.location={CERTS / 'client-key.pem'}\n")
    res = subprocess.run([runnel_bin(), "bench", "produce", "-b", mtls_bootstrap(), "--command-config", str(props),
                          "--topic", unique_topic("tls-bench"), "--records", "20000", "--acks", "all", "--json",
                          "--progress-ms", "0"], capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    result = json.loads(res.stdout)
    assert result["ok"] and result["log_growth"] == 20000 and result["failed"] == 0, result


def test_runnel_cli_names_a_bad_client_file(tls_broker, tmp_path):
    props = tmp_path / "client.properties"
    missing = tmp_path / "nope.pem"
    props.write_text(f"security.protocol=SSL\nssl.truststore.location={missing}\n")
    res = subprocess.run([runnel_bin(), "topic", "list", "-b", ssl_bootstrap(), "--command-config", str(props)],
                         capture_output=True, timeout=60)
    assert res.returncode != 0
    err = res.stderr.decode()
    assert "ssl.truststore.location" in err and str(missing) in err and "no such file" in err, err


@pytest.mark.parametrize("case", ["no certificate", "expired certificate", "other CA", "plain TCP to TLS",
                                  "TLS to plain TCP"])
def test_runnel_cli_says_why_tls_failed(tls_broker, tmp_path, case):
    ca = f"ssl.truststore.location={CERTS / 'ca.pem'}\n"
    props, bootstrap, expected = {
        "no certificate": (ca, mtls_bootstrap(), "the broker requires a client certificate"),
        "expired certificate": (ca + f"ssl.keystore.location={CERTS / 'expired.pem'}\n", mtls_bootstrap(),
                                "the broker refused this client's certificate (SSLV3_ALERT_CERTIFICATE_EXPIRED)"),
        "other CA": (f"ssl.truststore.location={CERTS / 'rogue-ca.pem'}\n", ssl_bootstrap(),
                     "the broker's certificate is not trusted by ssl.truststore.location"),
        "plain TCP to TLS": (None, ssl_bootstrap(), "these bytes are a TLS record"),
        "TLS to plain TCP": (ca, tls_broker.bootstrap, "is this a TLS (SSL) listener?"),
    }[case]
    args = [runnel_bin(), "topic", "list", "-b", bootstrap, "--timeout-ms", "5000"]
    if props is not None:
        (tmp_path / "c.properties").write_text("security.protocol=SSL\n" + props)
        args += ["--command-config", str(tmp_path / "c.properties")]
    res = subprocess.run(args, capture_output=True, timeout=60)
    assert res.returncode == 1 and expected in res.stderr.decode(), res.stderr.decode()


def test_plaintext_client_on_the_ssl_listener_is_not_served(tls_broker):
    # A PLAINTEXT ApiVersions frame on a TLS port is not a ClientHello: the broker closes.
    with socket.create_connection(("127.0.0.1", SSL_PORT), timeout=10) as s:
        s.sendall(request_frame(18, 0, 1))
        s.settimeout(10)
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        assert not data.startswith(b"\x00\x00"), f"got what looks like a Kafka response: {data[:32].hex()}"


# ---------------------------------------------------------------------------------------- mTLS

def tls_api_versions(port: int, cert: str | None, tls_version=None) -> bytes:
    """TLS handshake (client certificate `cert`, or none), then ApiVersions v0; returns the response
    frame, or raises (ssl.SSLError, ConnectionError) when the broker refuses."""
    context = ssl.create_default_context(cafile=str(CERTS / "ca.pem"))
    if tls_version is not None:
        context.minimum_version = context.maximum_version = tls_version
    if cert:
        context.load_cert_chain(str(CERTS / f"{cert}-cert.pem"), str(CERTS / f"{cert}-key.pem"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as s:
            s.settimeout(10)
            s.sendall(request_frame(18, 0, 7))
            return recv_frame(s)


def test_mtls_accepts_a_valid_client_certificate_and_names_its_subject(tls_broker):
    frame = tls_api_versions(MTLS_PORT, "client")
    assert frame[:4] == (7).to_bytes(4, "big") and frame[4:6] == b"\x00\x00"
    wait_until(lambda: f"authenticated as {ALICE}" in tls_broker.log_text(), 10,
               f"the broker to log the principal {ALICE}")


@pytest.mark.parametrize("cert", [None, "expired", "untrusted"])
def test_mtls_refuses_a_bad_client_and_goes_on_serving(tls_broker, cert):
    # TLS 1.3: the client's handshake ends before the server has checked its certificate, so the
    # refusal (an alert, then the close) comes on the first read. A timeout is not a refusal.
    with pytest.raises((ssl.SSLError, ConnectionError)) as refused:
        tls_api_versions(MTLS_PORT, cert)
    assert not isinstance(refused.value, (socket.timeout, TimeoutError)), refused.value
    # librdkafka with the same certificate gets no metadata either.
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient
    conf = ck_ssl(client_cert(cert) if cert else {})
    with pytest.raises(KafkaException):
        AdminClient({"bootstrap.servers": mtls_bootstrap(), **conf}).list_topics(timeout=4)
    # The listener still serves a good client, and the SSL one (no client auth) serves anyone.
    assert tls_api_versions(MTLS_PORT, "client")[:4] == (7).to_bytes(4, "big")
    assert tls_api_versions(SSL_PORT, None)[:4] == (7).to_bytes(4, "big")
    topic = unique_topic("tls-after")
    assert ck_produce(mtls_bootstrap(), topic, records("after", 3), conf=ck_ssl(client_cert("client"))) == {0: [0, 1, 2]}
    assert "TLS handshake with" in tls_broker.log_text()


def test_requested_client_auth_takes_a_client_without_a_certificate_but_checks_one_given(tls_broker):
    before = tls_broker.log_text().count("on listener ASK")
    assert tls_api_versions(ASK_PORT, None)[:4] == (7).to_bytes(4, "big")
    assert tls_api_versions(ASK_PORT, "client")[:4] == (7).to_bytes(4, "big")
    wait_until(lambda: f"on listener ASK (tlsv13) authenticated as {ALICE}" in tls_broker.log_text(), 10,
               "the ASK listener to log alice's principal")
    with pytest.raises((ssl.SSLError, ConnectionError)) as refused:
        tls_api_versions(ASK_PORT, "untrusted")
    assert not isinstance(refused.value, (socket.timeout, TimeoutError)), refused.value
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_api_versions(ASK_PORT, "expired")
    # One line for alice, one for each refused handshake; none for the client without a certificate.
    wait_until(lambda: tls_broker.log_text().count("on listener ASK") - before == 3, 10,
               "three log lines about the ASK listener")


def test_only_tls_1_2_and_later_are_accepted(tls_broker):
    assert tls_api_versions(SSL_PORT, None, ssl.TLSVersion.TLSv1_2)[:4] == (7).to_bytes(4, "big")
    assert tls_api_versions(SSL_PORT, None, ssl.TLSVersion.TLSv1_3)[:4] == (7).to_bytes(4, "big")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1 at all")
    with socket.create_connection(("127.0.0.1", SSL_PORT), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            context.wrap_socket(raw, server_hostname="localhost").do_handshake()


# ------------------------------------------------------------------------------ start-up errors

def start_failure(overrides: dict[str, str]) -> str:
    """Runs `runnel broker` with an SSL listener and `overrides`; it must exit non-zero within 30 s.
    Returns its output."""
    data = Path(tempfile.mkdtemp(prefix="runnel-tls-bad-"))
    port = free_port()
    conf = {"listeners": f"SSL://127.0.0.1:{port}", "inter.broker.listener.name": "SSL", "log.dirs": str(data / "data"),
            "ssl.keystore.location": str(CERTS / "broker.pem"), "ssl.truststore.location": str(CERTS / "ca.pem")}
    conf.update(overrides)
    cmd = [runnel_bin(), "broker"] + [a for k, v in conf.items() for a in ("--override", f"{k}={v}")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        pytest.fail(f"broker with {overrides} did not stop at start-up")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    assert proc.returncode != 0, f"broker with {overrides} started: {out.decode()[-2000:]}"
    return out.decode()


def test_a_missing_keystore_stops_start_up_naming_key_and_file(tmp_path):
    missing = tmp_path / "missing.pem"
    out = start_failure({"ssl.keystore.location": str(missing)})
    assert "ssl.keystore.location" in out and str(missing) in out and "no such file" in out, out


def test_a_missing_truststore_stops_start_up_naming_key_and_file(tmp_path):
    missing = tmp_path / "ca-missing.pem"
    out = start_failure({"ssl.truststore.location": str(missing)})
    assert "ssl.truststore.location" in out and str(missing) in out, out


def test_a_file_that_is_no_certificate_stops_start_up(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not PEM\n")
    out = start_failure({"ssl.keystore.location": str(junk)})
    assert "ssl.keystore.location" in out and str(junk) in out and "no PEM certificate" in out, out
    out = start_failure({"listener.name.ssl.ssl.truststore.location": str(junk)})
    assert "listener.name.ssl.ssl.truststore.location" in out and str(junk) in out, out


def test_a_keystore_without_its_key_stops_start_up(tmp_path):
    out = start_failure({"ssl.keystore.location": str(CERTS / "broker-cert.pem")})
    assert "ssl.keystore.location" in out and "broker-cert.pem" in out and "no PEM private key" in out, out


def test_an_encrypted_key_needs_the_right_password(tmp_path):
    chain = (CERTS / "broker-cert.pem").read_text()
    key = (CERTS / "broker-enc-key.pem").read_text()
    both = tmp_path / "enc.pem"
    both.write_text(key + chain)
    out = start_failure({"ssl.keystore.location": str(both)})
    assert "ssl.key.password" in out and str(both) in out, out
    out = start_failure({"ssl.keystore.location": str(both), "ssl.key.password": "wrong"})
    assert "ssl.keystore.location" in out and "wrong ssl.key.password" in out, out


def test_an_encrypted_key_with_its_password_serves(start_broker, tmp_path):
    both = tmp_path / "enc.pem"
    both.write_text((CERTS / "broker-enc-key.pem").read_text() + (CERTS / "broker-cert.pem").read_text())
    port = free_port()
    b = start_broker({"ssl.keystore.location": str(both), "ssl.key.password": "brokerpass"})
    b.stop()
    b.overrides["listeners"] += f",SSL://127.0.0.1:{port}"
    b.start()
    wait_until(lambda: _port_open(port), 20, "the SSL listener")
    assert tls_api_versions(port, None)[:4] == (7).to_bytes(4, "big")
    # DescribeConfigs never gives the passphrase away (Kafka's PASSWORD type: sensitive, no value).
    from confluent_kafka.admin import AdminClient, ConfigResource
    resource = ConfigResource(ConfigResource.Type.BROKER, "1")
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    described = admin.describe_configs([resource])[resource].result(timeout=20)
    entry = described["ssl.key.password"]
    assert entry.is_sensitive and entry.value is None, (entry.is_sensitive, entry.value)
    assert described["ssl.keystore.location"].value == str(both)
    assert "brokerpass" not in repr({k: v.value for k, v in described.items()})


def test_old_tls_versions_and_jks_are_refused_at_start_up():
    out = start_failure({"ssl.enabled.protocols": "TLSv1.1,TLSv1.2"})
    assert "ssl.enabled.protocols" in out and "TLSv1.1" in out, out
    out = start_failure({"ssl.keystore.type": "JKS"})
    assert "ssl.keystore.type" in out and "JKS" in out, out


def test_client_auth_required_without_a_truststore_stops_start_up():
    out = start_failure({"ssl.truststore.location": "", "ssl.client.auth": "required"})
    assert "ssl.client.auth=required" in out and "ssl.truststore.location" in out, out


# ------------------------------------------------------------------- a cluster that runs on mTLS

@pytest.mark.deadline(240)
def test_three_nodes_with_inter_broker_and_controller_traffic_on_mtls():
    """Every listener is SSL with client certificates required: the controllers elect and replicate
    the metadata log, followers fetch, and clients produce and consume, all over mTLS. Each node
    logs the other nodes' broker certificate as a principal, which shows its peers came over TLS."""
    from conftest import _VISIBLE_BROKERS
    from confluent_kafka.admin import AdminClient, NewTopic
    cluster = Cluster(runnel_bin(), 3, {"default.replication.factor": "3", "min.insync.replicas": "2"}, "tls-cluster")
    _VISIBLE_BROKERS.extend(cluster.nodes)
    try:
        for node in cluster.nodes:
            listeners = node.overrides["listeners"].replace("PLAINTEXT://", "SSL://")
            node.overrides.update({
                "listeners": listeners,
                "advertised.listeners": f"SSL://localhost:{node.port}",
                "listener.security.protocol.map": "SSL:SSL,CONTROLLER:SSL",
                "inter.broker.listener.name": "SSL",
                "ssl.keystore.location": str(CERTS / "broker.pem"),
                "ssl.truststore.location": str(CERTS / "ca.pem"),
                "ssl.client.auth": "required",
            })
            assert "PLAINTEXT" not in node.overrides["listeners"]
        cluster.start()
        bootstrap = ",".join(f"localhost:{n.port}" for n in cluster.nodes)
        conf = ck_ssl(client_cert("client"))
        topic = unique_topic("tls-rf3")
        admin = AdminClient({"bootstrap.servers": bootstrap, **conf})
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=3)],
                            operation_timeout=30, request_timeout=35)[topic].result(timeout=40)

        def isr_full():
            md = admin.list_topics(topic=topic, timeout=10).topics.get(topic)
            return md is not None and len(md.partitions) == 3 and all(
                p.leader > 0 and sorted(p.isrs) == [1, 2, 3] for p in md.partitions.values())
        wait_until(isr_full, 60, "three partitions with a full ISR")
        recs = [Rec(i % 3, f"k{i}".encode(), f"v{i}".encode(), (), 1_700_000_000_000 + i) for i in range(300)]
        acks = ck_produce(bootstrap, topic, recs, conf={**conf, "acks": "all", "enable.idempotence": True})
        assert {p: len(v) for p, v in acks.items()} == {0: 100, 1: 100, 2: 100}
        got = ck_read_partitions(bootstrap, topic, len(recs), conf, partitions=3)
        for p, expected in by_partition(recs).items():
            assert [v for q, v in got if q == p] == [r.value for r in expected]
        # Followers caught up over TLS: every node's high watermark is the end, and each node
        # logged its peers' broker certificate (CN=localhost) on the SSL and CONTROLLER listeners.
        broker_principal = "authenticated as User:CN=localhost,O=Runnel Test"
        for node in cluster.nodes:
            log = node.log_text()
            assert f"on listener CONTROLLER (" in log and broker_principal in log, node.log_tail(40)
        wait_until(lambda: all(f"on listener SSL (" in n.log_text() and broker_principal in n.log_text()
                               for n in cluster.nodes), 20, "inter-broker TLS connections on every node")
    finally:
        cluster.close()
