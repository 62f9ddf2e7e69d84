/*
 * fsync-latency: how long an fdatasync of one freshly written 1000-byte piece takes on this
 * machine, for files prepared in different ways (the tail of acks=all latency).
 *
 *   fsync-latency MODE COUNT PATH
 *     MODE 0: append to an empty file
 *          1: overwrite a file written with zeros and synced first
 *          2: write into a sparse file (ftruncate), as Runnel's active segment
 *          3: write into fallocate'd (unwritten) extents
 *
 * Prints p50/p90/p99/p99.9/max in ms. 0.5 ms pause between writes.
 * Build: gcc -O2 -o fsync-latency fsync-latency.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: fsync-latency MODE COUNT PATH\n"); return 2; }
    int mode = atoi(argv[1]), count = atoi(argv[2]);
    if (count <= 0) return 2;
    int fd = open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 1; }
    size_t span = (size_t)count * 1000 + (1 << 16);
    if (mode == 1) {
        static char zeros[1 << 16];
        for (size_t done = 0; done < span; done += sizeof zeros)
            if (write(fd, zeros, sizeof zeros) != (ssize_t)sizeof zeros) { perror("write"); return 1; }
        fsync(fd);
    } else if (mode == 2) {
        if (ftruncate(fd, (off_t)span) != 0) { perror("ftruncate"); return 1; }
    } else if (mode == 3) {
        if (fallocate(fd, 0, 0, (off_t)span) != 0) { perror("fallocate"); return 1; }
        fsync(fd);
    }
    char piece[1000];
    memset(piece, 'x', sizeof piece);
    double *took = malloc(sizeof(double) * (size_t)count);
    for (int i = 0; i < count; i++) {
        if (pwrite(fd, piece, sizeof piece, (off_t)i * 1000) != (ssize_t)sizeof piece) { perror("pwrite"); return 1; }
        double start = now_ms();
        fdatasync(fd);
        took[i] = now_ms() - start;
        usleep(500);
    }
    qsort(took, (size_t)count, sizeof(double), by_value);
    printf("mode %d: p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f ms\n", mode, took[count / 2],
           took[count * 9 / 10], took[count * 99 / 100], took[count * 999 / 1000], took[count - 1]);
    close(fd);
    unlink(argv[3]);
    return 0;
}
