// memcpy bandwidth for context: 20 copies of a 256 MiB buffer (as in PERFORMANCE.md), in GB/s.
//     cc -O2 -o /tmp/memcpy memcpy.c && /tmp/memcpy
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int main(void) {
    size_t n = 256u << 20;
    char *a = malloc(n), *b = malloc(n);
    memset(a, 1, n); memset(b, 2, n);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++) { memcpy(b, a, n); a[i] = b[n - 1 - i]; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("memcpy 256 MiB x20: %.2f GB/s (check %d)\n", 20.0 * n / s / 1e9, b[7]);
    return 0;
}
