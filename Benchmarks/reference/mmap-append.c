// The kernel's share of a segment append: memcpy `chunk`-byte pieces (default 1024) into a fresh
// MAP_SHARED mapping of a sparse 1 GiB file, as LogSegment does, timing each MiB (900 MiB in all).
//     cc -O2 -o /tmp/mmap-append mmap-append.c && /tmp/mmap-append /tmp/seg.test 16384
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
    size_t len = 1ul << 30, chunk = argc > 2 ? atoi(argv[2]) : 1024;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    ftruncate(fd, len);
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char src[16384]; memset(src, 'x', sizeof src);
    int n = 900; double rates[900]; size_t pos = 0; double total0 = now();
    for (int s = 0; s < n; s++) {
        double t0 = now();
        for (size_t i = 0; i < (1u << 20) / chunk; i++) { memcpy(m + pos, src, chunk); pos += chunk; }
        rates[s] = 1.048576 / (now() - t0);  // MB/s
    }
    double total = now() - total0;
    qsort(rates, n, sizeof(double), cmp);
    // Percentiles of the per-MiB rate, ascending (p10 = the slowest tenth), then bytes / total time.
    printf("chunk %zu: MB/s p10 %.0f p25 %.0f p50 %.0f p75 %.0f p90 %.0f | aggregate %.0f MB/s\n", chunk,
           rates[n / 10], rates[n / 4], rates[n / 2], rates[n * 3 / 4], rates[n * 9 / 10], n * 1.048576 / total);
    munmap(m, len); close(fd); unlink(argv[1]);
    return 0;
}
