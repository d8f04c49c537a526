/* bench/bench_quant.c — is the int8 matrix multiply faster than the float one?
 *
 * For a few shapes y (M, N) = x (M, K) W, times:
 *   float:      nn_matmul, float32 (the library's op, OpenMP when built with it)
 *   int8 ref:   nn_q8_matmul with the plain reference kernel
 *   int8 fast:  nn_q8_matmul with the fastest kernel this CPU has (AVX2 or AVX-512 VNNI)
 * Each int8 call includes quantizing x (per row, as at inference) and scaling back; the
 * weights are quantized once beforehand, as a deployed model stores them. GFLOP/s counts
 * 2 M K N operations either way (an int8 multiply-add counts as two), so the columns
 * compare directly; the last one is int8 fast over float. Each time is the best of 5 rounds.
 * Usage: bench_quant [--quick]                                                           */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>

/* Seconds per call: the best of 5 rounds, each repeating the call for budget / 5 seconds
 * (the best round is the one least disturbed by other programs on a busy machine). */
#define TIME_IT(budget, call)                                                   \
    ({                                                                          \
        double best_ = 1e30;                                                    \
        for (int round_ = 0; round_ < 5; round_++) {                            \
            int reps_ = 0;                                                      \
            double t0_ = nn_seconds(), t_;                                      \
            do { call; reps_++; } while ((t_ = nn_seconds() - t0_) < (budget) / 5); \
            if (t_ / reps_ < best_) best_ = t_ / reps_;                         \
        }                                                                       \
        best_;                                                                  \
    })

int main(int argc, char **argv) {
    bool quick = false;
    nn_option opts[] = {NN_OPT_FLAG("--quick", &quick, "two sizes, short timings")};
    nn_parse_options(argc, argv, "GFLOP/s of the int8 matmul against nn_matmul.", opts,
                     NN_COUNTOF(opts));
    double budget = quick ? 0.05 : 0.5;
    /* a Fashion-MNIST MLP batch; one token through a 1024-wide layer (generation); a
     * batch of tokens through it; a batch of CNN features */
    int sizes[][3] = {{64, 784, 256}, {1, 1024, 1024}, {256, 1024, 1024}, {64, 1568, 128}};
    int nsizes = quick ? 2 : 4;
    nn_seed(1);
    nn_q8_kernel fast = nn_q8_kernel_in_use();
    printf("y = x W: float32 nn_matmul vs int8 nn_q8_matmul; GFLOP/s = 2 M K N / seconds\n");
    printf("fast int8 kernel on this CPU: %s\n", nn_q8_kernel_name(fast));
    printf("%-16s %10s %10s %10s %12s\n", "M x K x N", "float", "int8 ref", "int8 fast",
           "fast/float");
    double worst = 1e9, best = 0;
    for (int s = 0; s < nsizes; s++) {
        int M = sizes[s][0], K = sizes[s][1], N = sizes[s][2];
        nn_tensor *x = nn_rand_uniform(-1, 1, NN_SHAPE(M, K));
        nn_tensor *w = nn_rand_uniform(-0.1f, 0.1f, NN_SHAPE(K, N));
        float *wt = malloc((size_t)N * K * sizeof *wt), *y = malloc((size_t)M * N * sizeof *y);
        for (int k = 0; k < K; k++)
            for (int n = 0; n < N; n++) wt[(size_t)n * K + k] = w->data[(size_t)k * N + n];
        nn_q8_weights *q = nn_q8_weights_new(wt, N, K);
        double flops = 2.0 * M * K * N;
        double t_float = TIME_IT(budget, (nn_matmul(x, w), nn_graph_clear()));
        nn_set_q8_kernel(NN_Q8_REFERENCE);
        double t_ref = TIME_IT(budget, nn_q8_matmul(x->data, M, q, NULL, y));
        nn_set_q8_kernel(NN_Q8_AUTO);
        double t_fast = TIME_IT(budget, nn_q8_matmul(x->data, M, q, NULL, y));
        char label[32];
        snprintf(label, sizeof label, "%dx%dx%d", M, K, N);
        printf("%-16s %10.2f %10.2f %10.2f %11.2fx\n", label, flops / t_float * 1e-9,
               flops / t_ref * 1e-9, flops / t_fast * 1e-9, t_float / t_fast);
        if (t_float / t_fast < worst) worst = t_float / t_fast;
        if (t_float / t_fast > best) best = t_float / t_fast;
        nn_q8_weights_free(q);
        free(wt), free(y);
        nn_tensor_free(x), nn_tensor_free(w);
    }
    nn_graph_release();
    printf("result: kernel=%s min_int8_over_float=%.2f max_int8_over_float=%.2f\n",
           nn_q8_kernel_name(fast), worst, best);
    return 0;
}
