"""One consumer-group member as its own process (scenario 13 kills it with SIGKILL). Prints one
JSON line per event, stamped with CLOCK_MONOTONIC (shared by every process on the machine):
{"t", "assign": [p...]}, {"t", "read": [p, offset, value]}, {"t", "commit": {p: offset}}.
argv: bootstrap topic group name"""
import json
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException

bootstrap, topic, group, name = sys.argv[1:5]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
end = time.monotonic() + 600   # bounded even if the parent forgets it


def emit(**kv):
    print(json.dumps({"t": time.monotonic(), **kv}), flush=True)


c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
              "socket.timeout.ms": 5000, "fetch.wait.max.ms": 200, "reconnect.backoff.max.ms": 500,
              "topic.metadata.refresh.interval.ms": 1000})


def commit():
    try:
        res = c.commit(asynchronous=False)
        offs = {tp.partition: tp.offset for tp in res or [] if tp.error is None and tp.offset >= 0}
        if offs:
            emit(commit=offs)
    except KafkaException as e:
        if e.args[0].code() != KafkaError._NO_OFFSET:
            emit(error=str(e.args[0]))


def on_revoke(consumer, parts):
    commit()
    emit(assign=[])


c.subscribe([topic], on_assign=lambda consumer, parts: emit(assign=[tp.partition for tp in parts]),
            on_revoke=on_revoke)
next_commit = time.monotonic() + 0.5
while time.monotonic() < end:
    m = c.poll(0.2)
    if m is not None and not m.error():
        emit(read=[m.partition(), m.offset(), m.value().decode()])
    if time.monotonic() >= next_commit:
        next_commit = time.monotonic() + 0.5
        commit()
