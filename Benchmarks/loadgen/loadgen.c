/*
 * loadgen: an independent Kafka load generator on librdkafka, so that Runnel's own Swift client
 * is never the only witness of a benchmark figure.
 *
 *   loadgen produce -b HOST:PORT -t TOPIC -n RECORDS -s BYTES [--acks all|1|0] [--linger-ms L]
 *                   [--batch-bytes B] [--batch-records R] [--compression none|gzip|...]
 *                   [--partition P] [--throughput RECORDS_PER_S] [-X key=value ...]
 *   loadgen consume -b HOST:PORT -t TOPIC -n RECORDS [--idle-timeout-ms T] [-X key=value ...]
 *   loadgen e2e     -b HOST:PORT -t TOPIC -n RECORDS -s BYTES --rate R [--acks all] [...]
 *   loadgen offsets -b HOST:PORT -t TOPIC [-n EXPECTED]
 *
 * Every mode prints exactly one JSON line on stdout, progress lines every 2 s on stderr, and
 * exits 1 (saying why on stderr and in the JSON "error" field) when a record is lost, a delivery
 * fails or the broker stops answering.
 *
 * produce: records of BYTES pseudo-random bytes (no key); latency is send to delivery report.
 *          Records are handed over 64 at a time (rd_kafka_produce_batch) and the clock is read
 *          once per chunk and once per 64 delivery reports: the witness's own CPU (it shares
 *          the machine with the broker) stays small; latency error well under 0.1 ms.
 * consume: the legacy (group-less) consumer reads every partition from its start until RECORDS
 *          records arrived; latency is not measured (throughput only).
 * e2e:     a producer paced at --rate and a consumer in a second thread; each value carries its
 *          sequence number and CLOCK_MONOTONIC send time, the consumer measures receive minus
 *          send time and checks that every sequence number arrives exactly once.
 * offsets: the sum over partitions of the low and high watermarks (for recovery checks); with
 *          -n, waits (up to --idle-timeout-ms) until the high watermarks sum to at least that.
 *
 * Latencies go into a log-linear histogram in microseconds with 512 sub-buckets per power of two
 * (relative error < 0.2 %).
 *
 * Build: gcc -O2 -Wall -o loadgen loadgen.c -lrdkafka -lpthread
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---------- time ---------- */

static inline uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
    struct timespec t = {.tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
}

/* ---------- histogram (microseconds) ---------- */

#define HIST_LINEAR 1024                 /* values below this get their own bucket */
#define HIST_SUB 512                     /* sub-buckets per power of two above it */
#define HIST_BUCKETS (HIST_LINEAR + 54 * HIST_SUB)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
} histogram;

static inline int hist_index(uint64_t v) {
    if (v < HIST_LINEAR) return (int)v;
    int shift = 63 - __builtin_clzll(v) - 9; /* v >> shift lies in [512, 1024) */
    int index = HIST_LINEAR + (shift - 1) * HIST_SUB + (int)((v >> shift) - HIST_SUB);
    return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

/* The highest value that falls into bucket `index` (so percentiles never under-report). */
static uint64_t hist_value(int index) {
    if (index < HIST_LINEAR) return (uint64_t)index;
    int shift = (index - HIST_LINEAR) / HIST_SUB + 1;
    uint64_t sub = (uint64_t)((index - HIST_LINEAR) % HIST_SUB + HIST_SUB);
    return ((sub + 1) << shift) - 1;
}

static inline void hist_record(histogram *h, uint64_t us) {
    h->counts[hist_index(us)]++;
    h->total++;
    if (us > h->max) h->max = us;
}

static double hist_percentile_ms(const histogram *h, double percentile) {
    if (h->total == 0) return 0;
    uint64_t rank = (uint64_t)((percentile / 100.0) * (double)h->total + 0.5);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            if (v > h->max) v = h->max;
            return (double)v / 1000.0;
        }
    }
    return (double)h->max / 1000.0;
}

/* ---------- options ---------- */

typedef struct {
    const char *mode;
    const char *bootstrap;
    const char *topic;
    long records;
    int record_size;
    const char *acks;
    const char *linger_ms;
    const char *batch_bytes;
    const char *batch_records;
    const char *compression;
    int partition;          /* -1: librdkafka's partitioner */
    double throughput;      /* produce: records/s cap, <= 0 unlimited */
    double rate;            /* e2e: records/s */
    long idle_timeout_ms;
    const char *extra[32];  /* -X key=value */
    int extra_count;
} options;

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen produce|consume|e2e -b HOST:PORT -t TOPIC -n RECORDS [-s BYTES]\n"
            "       [--acks all|1|0] [--linger-ms L] [--batch-bytes B] [--batch-records R]\n"
            "       [--compression C] [--partition P] [--throughput R/S] [--rate R/S]\n"
            "       [--idle-timeout-ms T] [-X librdkafka.key=value ...]\n");
    exit(2);
}

static void parse(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->bootstrap = "127.0.0.1:9092";
    o->record_size = 100;
    o->acks = "1";
    o->linger_ms = "5";
    o->batch_bytes = "1000000";
    o->batch_records = "10000";
    o->compression = "none";
    o->partition = -1;
    o->idle_timeout_ms = 10000;
    if (argc < 2) usage();
    o->mode = argv[1];
    static struct option longs[] = {
        {"bootstrap-server", required_argument, 0, 'b'}, {"topic", required_argument, 0, 't'},
        {"records", required_argument, 0, 'n'}, {"record-size", required_argument, 0, 's'},
        {"acks", required_argument, 0, 'a'}, {"linger-ms", required_argument, 0, 'l'},
        {"batch-bytes", required_argument, 0, 'B'}, {"batch-records", required_argument, 0, 'R'},
        {"compression", required_argument, 0, 'z'}, {"partition", required_argument, 0, 'p'},
        {"throughput", required_argument, 0, 'T'}, {"rate", required_argument, 0, 'r'},
        {"idle-timeout-ms", required_argument, 0, 'i'}, {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "b:t:n:s:X:", longs, NULL)) != -1) {
        switch (c) {
        case 'b': o->bootstrap = optarg; break;
        case 't': o->topic = optarg; break;
        case 'n': o->records = atol(optarg); break;
        case 's': o->record_size = atoi(optarg); break;
        case 'a': o->acks = optarg; break;
        case 'l': o->linger_ms = optarg; break;
        case 'B': o->batch_bytes = optarg; break;
        case 'R': o->batch_records = optarg; break;
        case 'z': o->compression = optarg; break;
        case 'p': o->partition = atoi(optarg); break;
        case 'T': o->throughput = atof(optarg); break;
        case 'r': o->rate = atof(optarg); break;
        case 'i': o->idle_timeout_ms = atol(optarg); break;
        case 'X':
            if (o->extra_count == 32) usage();
            o->extra[o->extra_count++] = optarg;
            break;
        default: usage();
        }
    }
    if (!o->topic || (o->records <= 0 && strcmp(o->mode, "offsets"))) usage();
    if (strcmp(o->mode, "produce") && strcmp(o->mode, "consume") && strcmp(o->mode, "e2e") &&
        strcmp(o->mode, "offsets")) usage();
    if (!strcmp(o->mode, "e2e") && o->rate <= 0) { fprintf(stderr, "loadgen: e2e needs --rate\n"); exit(2); }
    if (!strcmp(o->mode, "e2e") && o->record_size < 16) o->record_size = 16;
    if (o->record_size < 0) usage();
}

/* ---------- failure reporting ---------- */

static const options *g_opts;

static void print_json(const char *mode, long records, double seconds, double bytes, const histogram *h,
                       long errors, const char *error) {
    printf("{\"tool\":\"loadgen\",\"mode\":\"%s\",\"topic\":\"%s\",\"records\":%ld,\"record_size\":%d,"
           "\"acks\":\"%s\",\"seconds\":%.3f,\"records_per_s\":%.1f,\"mb_per_s\":%.2f",
           mode, g_opts->topic, records, g_opts->record_size, g_opts->acks, seconds,
           seconds > 0 ? records / seconds : 0, seconds > 0 ? bytes / seconds / 1e6 : 0);
    if (h && h->total > 0) {
        printf(",\"latency_ms\":{\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f}",
               hist_percentile_ms(h, 50), hist_percentile_ms(h, 95), hist_percentile_ms(h, 99),
               hist_percentile_ms(h, 99.9), (double)h->max / 1000.0);
    }
    printf(",\"errors\":%ld", errors);
    if (error) {
        printf(",\"error\":\"");
        for (const char *p = error; *p; p++) {
            if (*p == '"' || *p == '\\') putchar('\\');
            putchar((unsigned char)*p >= 0x20 ? *p : ' ');
        }
        printf("\"");
    }
    printf("}\n");
    fflush(stdout);
}

static void progress(const char *mode, uint64_t start, uint64_t *last_t, long *last_n, long n, int size,
                     const histogram *h) {
    uint64_t t = now_ns();
    if (t - *last_t < 2000000000ull) return;
    double window = (double)(t - *last_t) / 1e9;
    double rate = (double)(n - *last_n) / window;
    fprintf(stderr, "loadgen %s: %ld records, %.0f records/s, %.1f MB/s", mode, n, rate, rate * size / 1e6);
    if (h && h->total > 0)
        fprintf(stderr, ", p50 %.2f ms, p99 %.2f ms", hist_percentile_ms(h, 50), hist_percentile_ms(h, 99));
    fprintf(stderr, " (%.0f s)\n", (double)(t - start) / 1e9);
    *last_t = t;
    *last_n = n;
}

static rd_kafka_conf_t *base_conf(const options *o) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", o->bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "loadgen: %s\n", err);
        exit(2);
    }
    return conf;
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "loadgen: %s=%s: %s\n", key, value, err);
        exit(2);
    }
}

static void set_extra(rd_kafka_conf_t *conf, const options *o) {
    for (int i = 0; i < o->extra_count; i++) {
        char key[256];
        const char *eq = strchr(o->extra[i], '=');
        if (!eq || eq - o->extra[i] >= (long)sizeof key) { fprintf(stderr, "loadgen: -X wants key=value\n"); exit(2); }
        memcpy(key, o->extra[i], (size_t)(eq - o->extra[i]));
        key[eq - o->extra[i]] = 0;
        set(conf, key, eq + 1);
    }
}

/* ---------- produce ---------- */

typedef struct {
    histogram latency;
    long delivered;
    long failed;
    uint64_t clock; /* the last clock reading, refreshed every 64 reports */
    char first_error[256];
} delivery_state;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    delivery_state *s = opaque;
    if (m->err) {
        if (s->failed++ == 0)
            snprintf(s->first_error, sizeof s->first_error, "delivery failed: %s", rd_kafka_err2str(m->err));
        return;
    }
    s->delivered++;
    uint64_t sent = (uint64_t)(uintptr_t)m->_private;
    /* Reports arrive in bursts inside rd_kafka_poll; reading the clock for every 64th is
     * enough (each report takes well under 1 us) and keeps the witness's own CPU down. */
    if ((s->delivered & 63) == 1 || s->clock == 0) s->clock = now_ns();
    uint64_t t = s->clock;
    hist_record(&s->latency, t > sent ? (t - sent) / 1000 : 0);
}

static rd_kafka_t *make_producer(const options *o, delivery_state *state) {
    char err[512];
    rd_kafka_conf_t *conf = base_conf(o);
    set(conf, "acks", o->acks);
    set(conf, "linger.ms", o->linger_ms);
    set(conf, "batch.size", o->batch_bytes);
    set(conf, "batch.num.messages", o->batch_records);
    set(conf, "compression.codec", o->compression);
    /* 16 MiB of queue, as `runnel bench --buffer-bytes`: a deeper queue adds latency, not throughput. */
    set(conf, "queue.buffering.max.messages", "2000000");
    set(conf, "queue.buffering.max.kbytes", "16384");
    set(conf, "socket.nagle.disable", "true");
    set(conf, "enable.idempotence", "false");
    /* Fail within 30 s (not librdkafka's 300 s) when the broker is gone. */
    set(conf, "message.timeout.ms", "30000");
    set_extra(conf, o);
    rd_kafka_conf_set_opaque(conf, state);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "loadgen: %s\n", err); exit(1); }
    return rk;
}

static void fill(char *buffer, int size) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < size; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buffer[i] = (char)('a' + x % 26);
    }
}

static int run_produce(const options *o) {
    static delivery_state state;
    rd_kafka_t *rk = make_producer(o, &state);
    char *value = malloc((size_t)o->record_size + 1);
    fill(value, o->record_size);
    int32_t partition = o->partition >= 0 ? o->partition : RD_KAFKA_PARTITION_UA;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);

    uint64_t start = now_ns(), last_t = start;
    long last_n = 0;
    uint64_t interval_ns = o->throughput > 0 ? (uint64_t)(1e9 / o->throughput) : 0;
    /* Records go to librdkafka PRODUCE_CHUNK at a time with rd_kafka_produce_batch (one queue
     * lock per chunk instead of one per record); a chunk shares one send time, read when it is
     * handed over. No copy: every record points at the same value buffer. */
    enum { PRODUCE_CHUNK = 64 };
    rd_kafka_message_t chunk[PRODUCE_CHUNK];
    for (long i = 0; i < o->records;) {
        if (interval_ns) {
            uint64_t due = start + (uint64_t)i * interval_ns, t = now_ns();
            if (due > t) sleep_ns(due - t);
        }
        int count = o->records - i < PRODUCE_CHUNK ? (int)(o->records - i) : PRODUCE_CHUNK;
        if (interval_ns && count > 16) count = 16; /* keep a paced run smooth */
        uint64_t sent = now_ns();
        memset(chunk, 0, sizeof(rd_kafka_message_t) * (size_t)count);
        for (int k = 0; k < count; k++) {
            chunk[k].payload = value;
            chunk[k].len = (size_t)o->record_size;
            chunk[k]._private = (void *)(uintptr_t)sent;
        }
        int pending = count;
        for (;;) {
            rd_kafka_produce_batch(rkt, partition, 0, chunk, pending);
            /* Each record that was not accepted carries its error; offer only those again. */
            int failed = 0;
            rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
            for (int k = 0; k < pending; k++) {
                if (chunk[k].err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__QUEUE_FULL) e = chunk[k].err;
                chunk[failed] = chunk[k];
                chunk[failed].err = RD_KAFKA_RESP_ERR_NO_ERROR;
                failed++;
            }
            if (failed == 0) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                char why[300];
                snprintf(why, sizeof why, "produce failed: %s", rd_kafka_err2str(e));
                fprintf(stderr, "loadgen: %s\n", why);
                print_json("produce", state.delivered, (now_ns() - start) / 1e9, 0, &state.latency, 1, why);
                return 1;
            }
            /* Queue full: serve delivery reports, then offer the rest again (they keep their
             * send time: waiting for room in the queue is part of their latency). */
            pending = failed;
            rd_kafka_poll(rk, 1);
        }
        long before = i;
        i += count;
        if ((before >> 10) != (i >> 10)) {
            rd_kafka_poll(rk, 0);
            progress("produce", start, &last_t, &last_n, state.delivered, o->record_size, &state.latency);
        }
    }
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_poll(rk, 50);
        progress("produce", start, &last_t, &last_n, state.delivered, o->record_size, &state.latency);
        if (now_ns() - last_t > (uint64_t)(o->idle_timeout_ms + 60000) * 1000000ull) break;
    }
    double seconds = (now_ns() - start) / 1e9;
    int failed = 0;
    char why[400] = "";
    if (state.failed > 0) {
        snprintf(why, sizeof why, "%ld of %ld records failed; first: %s", state.failed, o->records, state.first_error);
        failed = 1;
    } else if (state.delivered != o->records) {
        snprintf(why, sizeof why, "only %ld of %ld records were acknowledged", state.delivered, o->records);
        failed = 1;
    }
    if (failed) fprintf(stderr, "loadgen: %s\n", why);
    print_json("produce", state.delivered, seconds, (double)state.delivered * o->record_size, &state.latency,
               state.failed + (o->records - state.delivered - state.failed), failed ? why : NULL);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    return failed;
}

/* ---------- consume ---------- */

static rd_kafka_t *make_consumer(const options *o) {
    char err[512];
    rd_kafka_conf_t *conf = base_conf(o);
    set(conf, "fetch.wait.max.ms", "100");
    set(conf, "fetch.min.bytes", "1");
    set(conf, "fetch.max.bytes", "52428800");
    set(conf, "max.partition.fetch.bytes", "4194304");
    set(conf, "queued.min.messages", "1000000");
    set(conf, "queued.max.messages.kbytes", "262144");
    set(conf, "enable.partition.eof", "false");
    set(conf, "check.crcs", "false");
    set(conf, "socket.nagle.disable", "true");
    set_extra(conf, o);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "loadgen: %s\n", err); exit(1); }
    return rk;
}

/* Number of partitions of o->topic (from metadata), or -1 with `why` set. */
static int partition_count(rd_kafka_t *rk, const options *o, char *why, size_t why_size) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, o->topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = -1;
    for (int attempt = 0; attempt < 20 && count < 0; attempt++) {
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        if (e) { snprintf(why, why_size, "metadata: %s", rd_kafka_err2str(e)); continue; }
        if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
            count = md->topics[0].partition_cnt;
        else if (md->topic_cnt == 1)
            snprintf(why, why_size, "topic %s: %s", o->topic, rd_kafka_err2str(md->topics[0].err));
        rd_kafka_metadata_destroy(md);
        if (count < 0) sleep_ns(100000000ull);
    }
    rd_kafka_topic_destroy(rkt);
    return count;
}

typedef struct {
    const options *o;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    rd_kafka_topic_t *rkt;
    int partitions;
    long received;
    double bytes;
    long errors;
    char why[300];
    /* e2e only */
    histogram latency;
    uint8_t *seen;
    long duplicates;
    long target;
    uint64_t start;
    atomic_int ready;
} consume_state;

static int start_consumer(consume_state *s, int64_t start_offset) {
    s->rk = make_consumer(s->o);
    s->partitions = partition_count(s->rk, s->o, s->why, sizeof s->why);
    if (s->partitions < 0) return -1;
    s->queue = rd_kafka_queue_new(s->rk);
    s->rkt = rd_kafka_topic_new(s->rk, s->o->topic, NULL);
    for (int p = 0; p < s->partitions; p++) {
        if (rd_kafka_consume_start_queue(s->rkt, p, start_offset, s->queue) == -1) {
            snprintf(s->why, sizeof s->why, "consume_start %d: %s", p, rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
    }
    return 0;
}

static void stop_consumer(consume_state *s) {
    if (!s->rk) return;
    if (s->rkt) {
        for (int p = 0; p < s->partitions; p++) rd_kafka_consume_stop(s->rkt, p);
        rd_kafka_topic_destroy(s->rkt);
    }
    if (s->queue) rd_kafka_queue_destroy(s->queue);
    rd_kafka_destroy(s->rk);
}

typedef struct {
    consume_state *s;
    int e2e;
    uint64_t now;
} consume_context;

static void on_message(rd_kafka_message_t *m, void *opaque) {
    consume_context *c = opaque;
    consume_state *s = c->s;
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && s->errors++ == 0)
            snprintf(s->why, sizeof s->why, "partition %d: %s", m->partition, rd_kafka_message_errstr(m));
        return;
    }
    if (s->received >= s->target) return;
    s->received++;
    s->bytes += (double)m->len;
    if (c->e2e && m->len >= 16) {
        uint64_t seq, sent, t = now_ns();
        memcpy(&seq, m->payload, 8);
        memcpy(&sent, (const char *)m->payload + 8, 8);
        if (seq < (uint64_t)s->o->records) {
            if (s->seen[seq]) s->duplicates++;
            s->seen[seq] = 1;
        }
        hist_record(&s->latency, t > sent ? (t - sent) / 1000 : 0);
    }
}

/* Reads until `target` records arrived, an error, or the idle timeout. The callback API hands
 * over whatever is queued as soon as something is (a batch API would wait to fill its array). */
static void consume_loop(consume_state *s, int e2e, const char *mode) {
    consume_context context = {.s = s, .e2e = e2e};
    uint64_t last_progress = now_ns(), last_arrival = last_progress;
    long last_n = 0;
    while (s->received < s->target) {
        long before = s->received;
        int n = rd_kafka_consume_callback_queue(s->queue, 100, on_message, &context);
        uint64_t t = now_ns();
        if (n < 0) {
            snprintf(s->why, sizeof s->why, "consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
            s->errors++;
            return;
        }
        if (s->errors) return;
        if (s->received > before) last_arrival = t;
        if (t - last_arrival > (uint64_t)s->o->idle_timeout_ms * 1000000ull) {
            snprintf(s->why, sizeof s->why, "only %ld of %ld records arrived: none for %ld ms", s->received,
                     s->target, s->o->idle_timeout_ms);
            return;
        }
        progress(mode, s->start, &last_progress, &last_n, s->received, s->o->record_size,
                 e2e ? &s->latency : NULL);
    }
}

static int run_consume(const options *o) {
    static consume_state s;
    s.o = o;
    s.target = o->records;
    if (start_consumer(&s, RD_KAFKA_OFFSET_BEGINNING) < 0) {
        fprintf(stderr, "loadgen: %s\n", s.why);
        print_json("consume", 0, 0, 0, NULL, 1, s.why);
        return 1;
    }
    s.start = now_ns();
    consume_loop(&s, 0, "consume");
    double seconds = (now_ns() - s.start) / 1e9;
    int failed = s.received < o->records || s.errors > 0;
    if (failed && !s.why[0]) snprintf(s.why, sizeof s.why, "only %ld of %ld records arrived", s.received, o->records);
    if (failed) fprintf(stderr, "loadgen: %s\n", s.why);
    /* record_size is what arrived on average, for the JSON line */
    print_json("consume", s.received, seconds, s.bytes, NULL, s.errors + (o->records - s.received),
               failed ? s.why : NULL);
    stop_consumer(&s);
    return failed;
}

/* ---------- e2e ---------- */

static void *e2e_consumer_thread(void *arg) {
    consume_state *s = arg;
    atomic_store(&s->ready, 1);
    consume_loop(s, 1, "e2e");
    return NULL;
}

static int run_e2e(const options *o) {
    static consume_state s;
    static delivery_state produced;
    s.o = o;
    s.target = o->records;
    s.seen = calloc((size_t)o->records, 1);
    /* Start at the end: only this run's records count. */
    if (start_consumer(&s, RD_KAFKA_OFFSET_END) < 0) {
        fprintf(stderr, "loadgen: %s\n", s.why);
        print_json("e2e", 0, 0, 0, NULL, 1, s.why);
        return 1;
    }
    rd_kafka_t *producer = make_producer(o, &produced);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, o->topic, NULL);
    int32_t partition = o->partition >= 0 ? o->partition : RD_KAFKA_PARTITION_UA;
    char *value = malloc((size_t)o->record_size);
    fill(value, o->record_size);

    /* Let the consumer's fetchers reach the log end before the first record. */
    s.start = now_ns();
    pthread_t thread;
    pthread_create(&thread, NULL, e2e_consumer_thread, &s);
    while (!atomic_load(&s.ready)) sleep_ns(1000000);
    sleep_ns(1000000000ull);

    uint64_t start = now_ns();
    s.start = start;
    double interval = 1e9 / o->rate;
    for (long i = 0; i < o->records; i++) {
        uint64_t due = start + (uint64_t)(i * interval), t = now_ns();
        if (due > t) sleep_ns(due - t);
        uint64_t seq = (uint64_t)i, sent = now_ns();
        memcpy(value, &seq, 8);
        memcpy(value + 8, &sent, 8);
        while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, value, (size_t)o->record_size, NULL, 0,
                                (void *)(uintptr_t)sent) == -1) {
            if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            rd_kafka_poll(producer, 1);
        }
        rd_kafka_poll(producer, 0);
    }
    rd_kafka_flush(producer, 60000);
    double produce_seconds = (now_ns() - start) / 1e9;
    pthread_join(thread, NULL);
    double seconds = (now_ns() - start) / 1e9;

    long missing = 0;
    for (long i = 0; i < o->records; i++) missing += !s.seen[i];
    int failed = 0;
    char why[400] = "";
    if (produced.failed) {
        snprintf(why, sizeof why, "%ld records failed to produce; first: %s", produced.failed, produced.first_error);
        failed = 1;
    } else if (missing || s.errors) {
        snprintf(why, sizeof why, "%ld of %ld records never arrived%s%s", missing, o->records,
                 s.why[0] ? "; " : "", s.why);
        failed = 1;
    } else if (s.duplicates) {
        snprintf(why, sizeof why, "%ld records arrived twice", s.duplicates);
        failed = 1;
    }
    if (failed) fprintf(stderr, "loadgen: %s\n", why);
    fprintf(stderr, "loadgen e2e: produced at %.0f records/s (target %.0f)\n", o->records / produce_seconds, o->rate);
    print_json("e2e", s.received, seconds, s.bytes, &s.latency, missing + produced.failed + s.duplicates,
               failed ? why : NULL);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(producer);
    stop_consumer(&s);
    free(value);
    free(s.seen);
    return failed;
}

/* ---------- offsets ---------- */

static int run_offsets(const options *o) {
    static consume_state s;
    s.o = o;
    uint64_t start = now_ns();
    s.rk = make_consumer(o);
    s.partitions = partition_count(s.rk, o, s.why, sizeof s.why);
    int64_t low_sum = 0, high_sum = 0;
    int failed = s.partitions < 0;
    while (!failed) {
        low_sum = high_sum = 0;
        for (int p = 0; p < s.partitions && !failed; p++) {
            int64_t low, high;
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(s.rk, o->topic, p, &low, &high, 5000);
            if (e) {
                snprintf(s.why, sizeof s.why, "watermarks of partition %d: %s", p, rd_kafka_err2str(e));
                failed = 1;
            }
            low_sum += low;
            high_sum += high;
        }
        if (failed || high_sum >= o->records) break;
        if (now_ns() - start > (uint64_t)o->idle_timeout_ms * 1000000ull) {
            snprintf(s.why, sizeof s.why, "high watermarks sum to %" PRId64 ", expected %ld", high_sum, o->records);
            failed = 1;
            break;
        }
        sleep_ns(20000000ull);
    }
    if (failed) fprintf(stderr, "loadgen: %s\n", s.why);
    printf("{\"tool\":\"loadgen\",\"mode\":\"offsets\",\"topic\":\"%s\",\"partitions\":%d,\"low\":%" PRId64
           ",\"high\":%" PRId64 ",\"seconds\":%.3f,\"ok\":%s}\n",
           o->topic, s.partitions, low_sum, high_sum, (now_ns() - start) / 1e9, failed ? "false" : "true");
    rd_kafka_destroy(s.rk);
    return failed;
}

int main(int argc, char **argv) {
    static options o;
    parse(argc, argv, &o);
    g_opts = &o;
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(o.mode, "produce")) return run_produce(&o);
    if (!strcmp(o.mode, "consume")) return run_consume(&o);
    if (!strcmp(o.mode, "offsets")) return run_offsets(&o);
    return run_e2e(&o);
}
