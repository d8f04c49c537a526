/* nn/core/clock.h — a monotonic clock for progress bars and benchmarks. */
#ifndef NN_CORE_CLOCK_H
#define NN_CORE_CLOCK_H


/* Wall-clock seconds since an arbitrary start (monotonic); for progress and benchmarks. */
double nn_seconds(void);

#endif
