/* src/core/clock.c — a monotonic clock for progress bars and benchmarks. */
#include "internal.h"
#include <time.h>

double nn_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
