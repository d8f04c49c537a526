/* bench/bench_conv.c — how fast are convolution and pooling, and a whole CNN training step?
 *
 *   make BUILD=build bench && build/bench/bench_conv [--reps N]
 *
 * Prints figures; it is not a test. The layer shapes are those of the chapter 3 CNN on
 * Fashion-MNIST at batch 64:
 *   conv(1->16, 3x3, pad 1) + relu + maxpool 2  ->  conv(16->32, 3x3, pad 1) + relu + maxpool 2
 *   -> flatten (1568) -> linear 1568->128 + relu -> linear 128->10 -> cross-entropy
 * For each conv layer: forward and backward time of the reference loops and of the fast path
 * (im2col + blocked matmul), and the ratio. Then the matrix kernels on the fast path's shapes,
 * and images per second for a full training step (forward + backward, no optimizer).
 * Each figure is the best of several runs (the least disturbed by other work).
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Library-internal kernels (src/internal.h), declared here only to time them. */
void nn_kernel_matmul_nn(const float *A, const float *B, float *C, int M, int K, int N);
void nn_kernel_gemm_nn(const float *A, const float *B, float *C, int M, int K, int N);

enum { BATCH = 64 };

typedef struct { double fwd, bwd; } timing;

/* Best-of-`reps` forward and backward time of one conv: backward is the op's own backward
 * (the node's function), fed a random output gradient, so nothing else is timed. */
static timing time_conv(nn_tensor *x, nn_tensor *w, nn_tensor *b, int padding, bool reference,
                        int reps) {
    bool was = nn_set_conv2d_reference(reference);
    timing best = {1e30, 1e30};
    for (int r = 0; r < reps + 1; r++) {          /* the first run only warms up */
        double t0 = nn_seconds();
        nn_tensor *y = nn_conv2d(x, w, b, 1, padding);
        double t1 = nn_seconds();
        nn_fill_uniform(y, -1, 1, NULL);           /* harmless: backward reads only grads */
        memcpy(y->grad, y->data, y->size * sizeof(float));
        double t2 = nn_seconds();
        y->node->backward(y->node);
        double t3 = nn_seconds();
        if (r > 0) {
            if (t1 - t0 < best.fwd) best.fwd = t1 - t0;
            if (t3 - t2 < best.bwd) best.bwd = t3 - t2;
        }
        nn_graph_clear();
    }
    nn_set_conv2d_reference(was);
    return best;
}

/* Returns the fast path's speed-up over the reference, forward + backward together. */
static double bench_layer(const char *name, int C, int H, int K, bool grad_x, int reps) {
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(BATCH, C, H, H));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 0.1f, NN_SHAPE(K, C, 3, 3)));
    nn_tensor *b = nn_requires_grad(nn_zeros(NN_SHAPE(K)));
    if (grad_x) nn_requires_grad(x);
    timing ref = time_conv(x, w, b, 1, true, reps < 3 ? reps : 3);
    timing fast = time_conv(x, w, b, 1, false, reps);
    double macs = (double)BATCH * K * H * H * C * 9;     /* multiply-adds of the forward */
    printf("%-6s x (%d, %d, %d, %d) w (%d, %d, 3, 3) pad 1%s\n", name, BATCH, C, H, H, K, C,
           grad_x ? "" : "  (x is data: no dx)");
    printf("  forward   reference %8.2f ms   fast %7.2f ms   ratio %6.1fx   fast %5.1f GFLOP/s\n",
           ref.fwd * 1e3, fast.fwd * 1e3, ref.fwd / fast.fwd, 2 * macs / fast.fwd / 1e9);
    printf("  backward  reference %8.2f ms   fast %7.2f ms   ratio %6.1fx   fast %5.1f GFLOP/s\n",
           ref.bwd * 1e3, fast.bwd * 1e3, ref.bwd / fast.bwd,
           (grad_x ? 4 : 2) * macs / fast.bwd / 1e9);
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
    return (ref.fwd + ref.bwd) / (fast.fwd + fast.bwd);
}

static void bench_pool(int reps) {
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(BATCH, 16, 28, 28)));
    double fwd = 1e30, bwd = 1e30;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = nn_seconds();
        nn_tensor *y = nn_max_pool2d(x, 2, 2);
        double t1 = nn_seconds();
        nn_fill(y, 1.0f);
        memcpy(y->grad, y->data, y->size * sizeof(float));
        double t2 = nn_seconds();
        y->node->backward(y->node);
        double t3 = nn_seconds();
        if (r > 0 && t1 - t0 < fwd) fwd = t1 - t0;
        if (r > 0 && t3 - t2 < bwd) bwd = t3 - t2;
        nn_graph_clear();
    }
    printf("maxpool x (%d, 16, 28, 28) 2x2: forward %.2f ms, backward %.2f ms\n", BATCH,
           fwd * 1e3, bwd * 1e3);
    nn_tensor_free(x);
}

/* The plain kernel (kernels.c's readable one) against the blocked one, on the products the
 * fast path runs per image (and the CNN's big linear layer for the whole batch). */
static void bench_kernels(int reps) {
    const struct { const char *what; int M, K, N; } shapes[] = {
        {"conv2 forward   w @ col", 32, 144, 196},
        {"conv2 dw^T    col @ dy^T", 144, 196, 32},
        {"conv2 dcol    w^T @ dy", 144, 32, 196},
        {"conv1 forward   w @ col", 16, 9, 784},
        {"linear 1568->128, batch", 64, 1568, 128},
    };
    printf("matrix kernels, one thread each call (C += A @ B):\n");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s].M, K = shapes[s].K, N = shapes[s].N;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C = calloc((size_t)M * N, sizeof(float));
        for (int i = 0; i < M * K; i++) A[i] = nn_rng_uniform(nn_global_rng()) - 0.5f;
        for (int i = 0; i < K * N; i++) B[i] = nn_rng_uniform(nn_global_rng()) - 0.5f;
        double flops = 2.0 * M * K * N;
        int inner = (int)(2e8 / flops) + 1;             /* about 0.2 GFLOP per timing */
        double best[2] = {1e30, 1e30};
#ifdef _OPENMP
        int threads = omp_get_max_threads();
        omp_set_num_threads(1);                          /* the kernels' own threads off */
#endif
        for (int r = 0; r < reps; r++)
            for (int k = 0; k < 2; k++) {
                double t0 = nn_seconds();
                for (int i = 0; i < inner; i++)
                    (k == 0 ? nn_kernel_matmul_nn : nn_kernel_gemm_nn)(A, B, C, M, K, N);
                double t = (nn_seconds() - t0) / inner;
                if (t < best[k]) best[k] = t;
            }
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        printf("  %-26s (%4d x %4d) @ (%4d x %4d): plain %5.1f GFLOP/s, blocked %5.1f GFLOP/s "
               "(%.1fx)\n", shapes[s].what, M, K, K, N, flops / best[0] / 1e9,
               flops / best[1] / 1e9, best[0] / best[1]);
        free(A);
        free(B);
        free(C);
    }
}

typedef struct {
    nn_conv2d_layer *c1, *c2;
    nn_linear_layer *fc1, *fc2;
} cnn;

static nn_tensor *cnn_forward(const cnn *net, nn_tensor *x) {
    nn_tensor *h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(net->c1, x)), 2, 2);
    h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(net->c2, h)), 2, 2);
    h = nn_relu(nn_linear_layer_forward(net->fc1, nn_flatten(h)));
    return nn_linear_layer_forward(net->fc2, h);
}

/* Images per second of forward + backward for the whole CNN (best of `reps` steps). */
static double bench_step(const cnn *net, nn_model *m, nn_tensor *x, const int *labels,
                         bool reference, int reps, double *forward_share) {
    bool was = nn_set_conv2d_reference(reference);
    double best = 1e30, best_fwd = 0;
    for (int r = 0; r < reps + 1; r++) {
        double t0 = nn_seconds();
        nn_tensor *loss = nn_cross_entropy_loss(cnn_forward(net, x), labels);
        double t1 = nn_seconds();
        nn_model_zero_grad(m);
        nn_backward(loss);
        double t2 = nn_seconds();
        nn_graph_clear();
        if (r > 0 && t2 - t0 < best) {
            best = t2 - t0;
            best_fwd = t1 - t0;
        }
    }
    nn_set_conv2d_reference(was);
    *forward_share = best_fwd / best;
    return BATCH / best;
}

int main(int argc, char **argv) {
    int reps = 10;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_INT("--reps", &reps, 1, 1000, "repetitions; the best time counts"),
        NN_OPT_SEED(&seed),
    };
    nn_parse_options(argc, argv, "Times convolution and pooling, forward and backward, and a "
                     "CNN training step.", opts, NN_COUNTOF(opts));
    nn_seed(seed);
#ifdef _OPENMP
    printf("bench_conv: batch %d, %d OpenMP threads, seed %llu, best of %d\n", BATCH,
           omp_get_max_threads(), (unsigned long long)seed, reps);
#else
    printf("bench_conv: batch %d, no OpenMP, seed %llu, best of %d\n", BATCH,
           (unsigned long long)seed, reps);
#endif
    double r1 = bench_layer("conv1", 1, 28, 16, false, reps);
    double r2 = bench_layer("conv2", 16, 14, 32, true, reps);
    bench_pool(reps);
    bench_kernels(reps < 5 ? reps : 5);

    nn_model *m = nn_model_new();
    cnn net = {
        nn_conv2d_layer_new(m, "conv1", 1, 16, 3, 1, 1, NN_INIT_HE),
        nn_conv2d_layer_new(m, "conv2", 16, 32, 3, 1, 1, NN_INIT_HE),
        nn_linear_layer_new(m, "fc1", 32 * 7 * 7, 128, NN_INIT_HE),
        nn_linear_layer_new(m, "fc2", 128, 10, NN_INIT_XAVIER),
    };
    nn_tensor *x = nn_rand_uniform(0, 1, NN_SHAPE(BATCH, 1, 28, 28));
    int labels[BATCH];
    for (int i = 0; i < BATCH; i++) labels[i] = nn_rng_int(nn_global_rng(), 10);
    double share_fast, share_ref;
    double fast = bench_step(&net, m, x, labels, false, reps, &share_fast);
    double ref = bench_step(&net, m, x, labels, true, reps < 3 ? reps : 3, &share_ref);
    printf("CNN training step (forward + backward, %zu parameters), batch %d:\n", m->count,
           BATCH);
    printf("  reference convs %8.0f images/s  (%.0f%% of the step in forward)\n", ref,
           100 * share_ref);
    printf("  fast convs      %8.0f images/s  (%.0f%% in forward), %.1fx; one epoch of 60000 "
           "images ~ %.1f s\n", fast, 100 * share_fast, fast / ref, 60000.0 / fast);
#ifdef _OPENMP
    /* One thread: the figure least disturbed when other programs share the cores. */
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    double one = bench_step(&net, m, x, labels, false, reps, &share_fast);
    omp_set_num_threads(threads);
    printf("  fast convs, 1 thread %5.0f images/s  (all %d threads: %.2fx that)\n", one, threads,
           fast / one);
#endif
    printf("result: conv1_speedup=%.1f conv2_speedup=%.1f images_per_s=%.0f "
           "ref_images_per_s=%.0f\n", r1, r2, fast, ref);
    nn_tensor_free(x);
    nn_model_free(m);
    nn_graph_release();
    return 0;
}
