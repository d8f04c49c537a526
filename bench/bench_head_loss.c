/* bench/bench_head_loss.c — a language model's head and loss, fused or not: time and memory.
 *
 * The two heads of the benchmark workloads, on 2048 rows (batch 32 x T 64) and a vocabulary
 * of 2502: the GPT's tied head x E^T (K = 64, E the token table) and the char model's
 * x W + b (K = 128). Each is timed as nn_cross_entropy_loss of the logits (two ops) and as
 * nn_linear_cross_entropy (one op, chunk by chunk), forward and backward, the two alternating,
 * the best of --reps; and what the step took from the arena (nn_graph_bytes_used after
 * backward: the arena only grows within a step) says how much memory each needs.
 * Usage: bench_head_loss [--reps N] [--seed S]
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>

enum { ROWS = 2048, VOCAB = 2502 };

typedef struct {
    double seconds;   /* best forward + backward */
    double mib;       /* taken from the arena by forward and backward, MiB */
    float loss;
} timing;

static nn_tensor *loss_of(nn_tensor *x, nn_tensor *w, nn_tensor *b, bool tied, const int *y,
                          bool fused) {
    if (fused) return nn_linear_cross_entropy(x, w, tied, b, y);
    nn_tensor *logits = tied ? nn_matmul(x, nn_transpose(w)) : nn_linear(x, w, b);
    return nn_cross_entropy_loss(logits, y);
}

static void run_once(nn_tensor *x, nn_tensor *w, nn_tensor *b, bool tied, const int *y,
                     bool fused, timing *t) {
    double t0 = nn_seconds();
    nn_tensor *loss = loss_of(x, w, b, tied, y, fused);
    nn_backward(loss);
    double s = nn_seconds() - t0;
    if (s < t->seconds) t->seconds = s;
    t->mib = (double)nn_graph_bytes_used() / (1 << 20);
    t->loss = nn_item(loss);
    nn_graph_clear();
    nn_zero_grad(x);
    nn_zero_grad(w);
    if (b) nn_zero_grad(b);
}

static void bench_head(const char *name, int K, bool tied, int reps, double *speedup,
                       double *memory_ratio) {
    nn_tensor *x = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(ROWS, K)));
    nn_tensor *w = nn_requires_grad(tied ? nn_rand_uniform(-0.1f, 0.1f, NN_SHAPE(VOCAB, K))
                                         : nn_rand_uniform(-0.1f, 0.1f, NN_SHAPE(K, VOCAB)));
    nn_tensor *b = tied ? NULL : nn_requires_grad(nn_zeros(NN_SHAPE(VOCAB)));
    int *y = malloc(sizeof(int) * ROWS);
    for (int r = 0; r < ROWS; r++) y[r] = nn_rng_int(nn_global_rng(), VOCAB);
    timing t[2] = {{1e30, 0, 0}, {1e30, 0, 0}};
    for (int rep = 0; rep < reps + 1; rep++)   /* the first of each untimed: a warm-up */
        for (int fused = 0; fused < 2; fused++) {
            timing scratch = {1e30, 0, 0};
            run_once(x, w, b, tied, y, fused, rep ? &t[fused] : &scratch);
        }
    printf("%s (rows %d, K %d, V %d):\n", name, ROWS, K, VOCAB);
    const char *label[2] = {"logits, then the loss", "nn_linear_cross_entropy"};
    for (int f = 0; f < 2; f++)
        printf("  %-24s %7.2f ms  arena %6.1f MiB  loss %.6f\n", label[f],
               1e3 * t[f].seconds, t[f].mib, t[f].loss);
    *speedup = t[0].seconds / t[1].seconds;
    *memory_ratio = t[1].mib / t[0].mib;
    printf("  fused: %.2fx the speed, %.2f of the memory\n", *speedup, *memory_ratio);
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
    free(y);
}

int main(int argc, char **argv) {
    int reps = 10;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_INT("--reps", &reps, 1, 1000, "timed repetitions; the best counts"),
        NN_OPT_SEED(&seed),
    };
    nn_parse_options(argc, argv, "Times a language model's head and cross-entropy as two ops "
                     "and as one (nn_linear_cross_entropy), and their memory.", opts,
                     NN_COUNTOF(opts));
    nn_seed(seed);
    printf("bench_head_loss: seed %llu, best of %d\n", (unsigned long long)seed, reps);
    double gpt_speed, gpt_mem, rnn_speed, rnn_mem;
    bench_head("gpt head, tied (x E^T)", 64, true, reps, &gpt_speed, &gpt_mem);
    bench_head("char model head (x W + b)", 128, false, reps, &rnn_speed, &rnn_mem);
    printf("result: gpt_speedup=%.2f gpt_memory=%.2f rnn_speedup=%.2f rnn_memory=%.2f\n",
           gpt_speed, gpt_mem, rnn_speed, rnn_mem);
    nn_graph_release();
    return 0;
}
