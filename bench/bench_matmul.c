/* bench/bench_matmul.c — how fast is nn_matmul, and why loop order matters.
 *
 * For a few sizes, times three ways to compute C = A B (M x K times K x N):
 *   naive i-j-k: the textbook triple loop; the inner loop strides down a column of B
 *   i-k-j:       the same arithmetic reordered so the inner loop walks rows (one thread)
 *   nn_matmul:   the library op (i-k-j, split across cores with OpenMP when built with it)
 * and prints GFLOP/s and the speed-up over naive, measured in this one run.
 * Usage: bench_matmul [--quick]                                                         */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void naive_ijk(const float *A, const float *B, float *C, int M, int K, int N) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[(size_t)i * K + k] * B[(size_t)k * N + j];
            C[(size_t)i * N + j] = s;
        }
}

static void serial_ikj(const float *A, const float *B, float *C, int M, int K, int N) {
    memset(C, 0, (size_t)M * N * sizeof(float));
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)i * K + k];
            for (int j = 0; j < N; j++) C[(size_t)i * N + j] += a * B[(size_t)k * N + j];
        }
}

/* Seconds per call: repeat until at least `budget` seconds have passed. */
#define TIME_IT(budget, call)                                                   \
    ({                                                                          \
        int reps_ = 0;                                                          \
        double t0_ = nn_seconds(), t_;                                          \
        do { call; reps_++; } while ((t_ = nn_seconds() - t0_) < (budget));     \
        t_ / reps_;                                                             \
    })

int main(int argc, char **argv) {
    bool quick = false;
    nn_option opts[] = {NN_OPT_FLAG("--quick", &quick, "two sizes, short timings")};
    nn_parse_options(argc, argv, "GFLOP/s of nn_matmul against the textbook loops.", opts,
                     NN_COUNTOF(opts));
    double budget = quick ? 0.05 : 0.5;
    int sizes[][3] = {{64, 784, 128}, {256, 256, 256}, {512, 512, 512}, {64, 1568, 128}};
    int nsizes = quick ? 2 : 4;
    nn_seed(1);
    printf("C = A B, float32; GFLOP/s = 2 M K N / seconds\n");
    printf("%-16s %12s %12s %12s %10s\n", "M x K x N", "naive ijk", "ikj 1 thread", "nn_matmul",
           "speed-up");
    double worst_ratio = 1e9;
    for (int s = 0; s < nsizes; s++) {
        int M = sizes[s][0], K = sizes[s][1], N = sizes[s][2];
        nn_tensor *a = nn_rand_uniform(-1, 1, NN_SHAPE(M, K));
        nn_tensor *b = nn_rand_uniform(-1, 1, NN_SHAPE(K, N));
        float *c = malloc((size_t)M * N * sizeof(float));
        double flops = 2.0 * M * K * N;
        double t_naive = TIME_IT(budget, naive_ijk(a->data, b->data, c, M, K, N));
        double t_ikj = TIME_IT(budget, serial_ikj(a->data, b->data, c, M, K, N));
        double t_nn = TIME_IT(budget, (nn_matmul(a, b), nn_graph_clear()));
        char label[32];
        snprintf(label, sizeof label, "%dx%dx%d", M, K, N);
        printf("%-16s %12.2f %12.2f %12.2f %9.1fx\n", label, flops / t_naive * 1e-9,
               flops / t_ikj * 1e-9, flops / t_nn * 1e-9, t_naive / t_nn);
        if (t_naive / t_nn < worst_ratio) worst_ratio = t_naive / t_nn;
        free(c);
        nn_tensor_free(a);
        nn_tensor_free(b);
    }
    nn_graph_release();
    printf("result: min_speedup_over_naive=%.1f\n", worst_ratio);
    return 0;
}
