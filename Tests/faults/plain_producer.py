"""A producer without idempotence as its own process (workload.Producers starts it). Its own
process because its librdkafka runs with the "msg" debug log, which librdkafka writes to this
process's stderr from its own threads: the parent reads the failed batches there (D100). A Python
`logger` would carry the log through the client's queue instead, and with a debug log that
queue can keep `poll(0)` from returning (librdkafka issue 5325), stalling every producer.

Prints one JSON line per event on stdout, stamped with CLOCK_MONOTONIC (shared by every process
on the machine): {"t", "send": [value, p]}, {"t", "ack": [value, p, offset]}, {"t", "fail":
[value, p, error]}, {"t", "error": text}, and last {"t", "remaining": n} after the flush.
SIGTERM stops producing and flushes. argv: bootstrap topic partitions rate name conf-json
max-seconds."""
import json
import signal
import sys
import time

from confluent_kafka import Producer

from workload import PRODUCER_BASE, produce_paced

bootstrap, topic, partitions, rate, name, conf, max_seconds = sys.argv[1:8]
partitions, rate = int(partitions), float(rate)
end = time.monotonic() + float(max_seconds)   # bounded even if the parent forgets it
stopping = False


def on_term(*_):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)


def emit(**kv):
    print(json.dumps({"t": time.monotonic(), **kv}), flush=True)


def report(_name):
    def delivered(err, msg):
        if err is None:
            emit(ack=[msg.value().decode(), msg.partition(), msg.offset()])
        else:
            emit(fail=[msg.value().decode(), msg.partition(), err.name()])
    return delivered


p = Producer({"bootstrap.servers": bootstrap, **PRODUCER_BASE, **json.loads(conf), "client.id": name,
              "debug": "msg", "error_cb": lambda e: emit(error=str(e))})
produce_paced({name: p}, topic, partitions, rate, lambda: stopping or time.monotonic() >= end,
              sent=lambda _name, value, part: emit(send=[value.decode(), part]), report=report)
emit(remaining=p.flush(70))
