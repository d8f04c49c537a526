/* bench/bench_workloads.c — the four chapter workloads of issue 13, timed through the public
 * API. The scripts in bench/reference/ are the same four in PyTorch; bench/compare.sh runs
 * both sides and prints the table (bench/README.md).
 *
 *   mlp  784-128-10, ReLU, cross-entropy, SGD lr 0.1 (no momentum), batch 64: one epoch of
 *        Fashion-MNIST (60,000 pictures in a shuffled order), then the 10,000 test pictures
 *   cnn  conv 3x3 1->8 pad 1 + ReLU, maxpool 2, conv 3x3 8->16 pad 1 + ReLU, maxpool 2,
 *        linear 784->10; SGD lr 0.05 momentum 0.9, batch 64; one epoch, then the test set
 *   rnn  a character model: embedding 32, GRU (chapter 4's default cell) hidden 128, linear to
 *        V = 2502 (tang300's vocabulary size); T 64, batch 32, Adam 2e-3, clip at norm 1.0
 *   gpt  nn_gpt: 2 pre-LN blocks, 4 heads, C 64, MLP 4C with GELU (tanh), tied head, learned
 *        positions; T 64, batch 32, V 2502; AdamW 3e-3, weight decay 0.01, clip at 1.0
 *
 * rnn and gpt read a synthetic token stream, no data files: each next id is a fixed function
 * of the one before plus one of four random steps, so there is something to learn and the
 * loss falls. The stream and the windows come from splitmix64, written the same way in
 * bench/reference/common.py, so both sides train on the same batches in the same order.
 *
 * Timed: mlp, cnn the training loop of the epoch (batches, forward, backward, step; not the
 * loading nor the test pass), in seconds; rnn, gpt the mean of --steps steps after --warmup
 * untimed ones, in milliseconds. Threads: OpenMP's, so OMP_NUM_THREADS sets them.
 * The last line:
 *   result: workload=W threads=N time=X unit=s/epoch|ms/step peak_rss_mib=R loss=L
 *           final_loss=F test_acc=A|-
 * loss is the mean training loss over the epoch (mlp, cnn) or the timed steps (rnn, gpt),
 * final_loss the last batch's; peak_rss_mib is getrusage's ru_maxrss for the whole process.
 *
 * Usage: bench_workloads --workload mlp|cnn|rnn|gpt [--quick] [--batches N] [--steps N]
 *                        [--warmup N] [--data DIR] [--seed N]                              */
#include <nn.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { IMAGE_BATCH = 64, EVAL_BATCH = 64, SEQ_BATCH = 32, SEQ_T = 64, VOCAB = 2502,
       STREAM_LEN = 1 << 16 };

typedef struct outcome {
    double time;          /* s/epoch or ms/step */
    double loss;          /* mean training loss */
    double final_loss;    /* the last batch's */
    double test_acc;      /* < 0: none */
} outcome;

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* KiB on Linux */
}

static int thread_count(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* ---- mlp and cnn: one epoch of Fashion-MNIST ------------------------------------------- */

typedef struct image_net {
    nn_model *model;
    nn_linear_layer *fc1, *fc2;       /* mlp: 784 -> 128 -> 10; cnn: fc1 784 -> 10 only */
    nn_conv2d_layer *conv1, *conv2;   /* cnn only */
} image_net;

static image_net mlp_new(void) {
    image_net n = {.model = nn_model_new()};
    n.fc1 = nn_linear_layer_new(n.model, "fc1", 784, 128, NN_INIT_HE);
    n.fc2 = nn_linear_layer_new(n.model, "fc2", 128, 10, NN_INIT_XAVIER);
    return n;
}

/* Padding 1 keeps 28x28 through conv1 and 14x14 through conv2, as chapter 3's CNN does, so
 * the pools give 14x14 and 7x7 and the linear layer reads 16 * 7 * 7 = 784 numbers. */
static image_net cnn_new(void) {
    image_net n = {.model = nn_model_new()};
    n.conv1 = nn_conv2d_layer_new(n.model, "conv1", 1, 8, 3, 1, 1, NN_INIT_HE);
    n.conv2 = nn_conv2d_layer_new(n.model, "conv2", 8, 16, 3, 1, 1, NN_INIT_HE);
    n.fc1 = nn_linear_layer_new(n.model, "fc1", 16 * 7 * 7, 10, NN_INIT_XAVIER);
    return n;
}

/* x (N, 1, 28, 28) -> logits (N, 10) */
static nn_tensor *image_forward(const image_net *n, nn_tensor *x) {
    if (!n->conv1)
        return nn_linear_layer_forward(n->fc2,
                                       nn_relu(nn_linear_layer_forward(n->fc1, nn_flatten(x))));
    /* conv, ReLU and pool as one op: only the pooled maps are kept, not the full-size ones
     * (PyTorch's side: ReLU(inplace=True), one full-size tensor per layer) */
    nn_tensor *h = nn_conv2d_layer_forward_relu_maxpool(n->conv1, x, 2, 2);   /* (N,8,14,14) */
    h = nn_conv2d_layer_forward_relu_maxpool(n->conv2, h, 2, 2);              /* (N,16,7,7) */
    return nn_linear_layer_forward(n->fc1, nn_flatten(h));
}

static double image_accuracy(const image_net *n, const nn_dataset *test) {
    bool was_grad = nn_set_grad_enabled(false);
    int labels[EVAL_BATCH], pred[EVAL_BATCH], right = 0;
    for (int s = 0; s < test->n; s += EVAL_BATCH) {
        nn_tensor *x = nn_dataset_batch(test, s, EVAL_BATCH, labels);
        nn_argmax_rows(image_forward(n, x), pred);
        for (int i = 0; i < x->shape[0]; i++) right += pred[i] == labels[i];
        nn_graph_clear();
    }
    nn_set_grad_enabled(was_grad);
    return (double)right / test->n;
}

static int run_images(bool cnn, int batches, int test_limit, const char *data, outcome *o) {
    nn_dataset train, test;
    int train_limit = batches > 0 ? batches * IMAGE_BATCH : 0;
    /* the pictures as bytes (47 MB, not 188 MB of floats), batches made as floats */
    if (nn_fashion_mnist_load_bytes(data, &train, &test, train_limit, test_limit) != 0) {
        fprintf(stderr, "bench_workloads: %s\n", nn_last_error());   /* says what to install */
        return 1;
    }
    image_net n = cnn ? cnn_new() : mlp_new();
    nn_optim *opt = cnn ? nn_sgd_new(n.model, 0.05f, 0.9f, 0.0f)
                        : nn_sgd_new(n.model, 0.1f, 0.0f, 0.0f);
    printf("%s: %zu parameters, %d training pictures, batch %d, %d test pictures\n",
           cnn ? "cnn 1-8-16" : "mlp 784-128-10", n.model->count, train.n, IMAGE_BATCH, test.n);
    nn_dataset_shuffle(&train, NULL);
    int labels[IMAGE_BATCH];
    double loss_sum = 0.0, t0 = nn_seconds();
    for (int s = 0; s < train.n; s += IMAGE_BATCH) {
        nn_tensor *x = nn_dataset_batch(&train, s, IMAGE_BATCH, labels);
        nn_tensor *loss = nn_cross_entropy_loss(image_forward(&n, x), labels);
        nn_model_zero_grad(n.model);
        nn_backward(loss);
        nn_optim_step(opt);
        o->final_loss = nn_item(loss);
        loss_sum += o->final_loss * x->shape[0];
        nn_graph_clear();
    }
    o->time = nn_seconds() - t0;
    o->loss = loss_sum / train.n;
    o->test_acc = image_accuracy(&n, &test);
    nn_optim_free(opt);
    nn_model_free(n.model);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
    return 0;
}

/* ---- rnn and gpt: steps on a synthetic token stream ------------------------------------ */

/* splitmix64 (Steele, Lea and Flood 2014): a tiny generator that is easy to write the same
 * way in Python, so both sides see the same ids. */
static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* next = (31 * id + 7 + one of 0..3) mod V: the best a model can do is ln 4 = 1.39 nats. */
static void token_stream(int *ids, int n, uint64_t *state) {
    ids[0] = 0;
    for (int i = 1; i < n; i++)
        ids[i] = (int)((31u * (unsigned)ids[i - 1] + 7u + splitmix64(state) % 4u) % VOCAB);
}

/* B windows of T + 1 tokens at random starts: inputs x and the next tokens y (B * T each). */
static void token_batch(const int *stream, uint64_t *state, int *x, int *y) {
    for (int b = 0; b < SEQ_BATCH; b++) {
        int start = (int)(splitmix64(state) % (uint64_t)(STREAM_LEN - SEQ_T - 1));
        memcpy(x + b * SEQ_T, stream + start, sizeof(int) * SEQ_T);
        memcpy(y + b * SEQ_T, stream + start + 1, sizeof(int) * SEQ_T);
    }
}

typedef struct seq_net {
    nn_model *model;
    nn_embedding_layer *emb;   /* rnn */
    nn_rnn_layer *gru;         /* rnn */
    nn_linear_layer *out;      /* rnn */
    nn_gpt *gpt;               /* gpt */
} seq_net;

/* The next-token loss of inputs x against targets y. The GPT's head and cross-entropy are
 * one op (nn_gpt_loss, through nn_linear_cross_entropy), so its (B, T, V) logits are never
 * all held: as fast, a tenth of the head's memory (bench_head_loss). The char model's
 * wider head (K = 128) ran 10-16% slower that way on two threads, so it keeps the two ops, like
 * PyTorch's side for both. */
static nn_tensor *seq_loss(const seq_net *n, const int *x, const int *y) {
    if (n->gpt) return nn_gpt_loss(n->gpt, x, y, SEQ_BATCH, SEQ_T);
    nn_tensor *e = nn_embedding_layer_forward(n->emb, x, SEQ_BATCH, SEQ_T);
    nn_tensor *h = nn_rnn_layer_forward(n->gru, e, NULL, NULL);   /* (B, T, 128) */
    return nn_cross_entropy_loss(nn_linear_layer_forward(n->out, h), y);
}

static int run_sequences(bool gpt, int steps, int warmup, uint64_t seed, outcome *o) {
    seq_net n = {0};
    nn_optim *opt;
    if (gpt) {
        nn_gpt_config cfg = {.vocab = VOCAB, .context = SEQ_T, .dim = 64, .heads = 4,
                             .layers = 2};
        if (!(n.gpt = nn_gpt_new(&cfg))) return 1;
        n.model = n.gpt->model;
        opt = nn_adamw_new(n.model, 3e-3f, 0.01f);
    } else {
        n.model = nn_model_new();
        n.emb = nn_embedding_layer_new(n.model, "emb", VOCAB, 32, 0.0f);
        n.gru = nn_rnn_layer_new(n.model, "gru", NN_CELL_GRU, 32, 128);
        n.out = nn_linear_layer_new(n.model, "out", 128, VOCAB, NN_INIT_XAVIER);
        opt = nn_adam_new(n.model, 2e-3f, 0.0f);
    }
    printf("%s: %zu parameters, V %d, T %d, batch %d, %d warm-up + %d timed steps\n",
           gpt ? "gpt 2 blocks x 4 heads, C 64" : "rnn emb 32 + GRU 128", n.model->count, VOCAB,
           SEQ_T, SEQ_BATCH, warmup, steps);
    int *stream = malloc(sizeof(int) * STREAM_LEN);
    int *x = malloc(sizeof(int) * SEQ_BATCH * SEQ_T), *y = malloc(sizeof(int) * SEQ_BATCH * SEQ_T);
    uint64_t state = seed;
    token_stream(stream, STREAM_LEN, &state);
    double seconds = 0.0, loss_sum = 0.0;
    for (int s = 0; s < warmup + steps; s++) {
        token_batch(stream, &state, x, y);   /* not timed: the same cost on both sides */
        double t0 = nn_seconds();
        nn_tensor *loss = seq_loss(&n, x, y);
        nn_model_zero_grad(n.model);
        nn_backward(loss);
        nn_clip_grad_norm(n.model, 1.0f);
        nn_optim_step(opt);
        o->final_loss = nn_item(loss);
        nn_graph_clear();
        if (s >= warmup) seconds += nn_seconds() - t0, loss_sum += o->final_loss;
    }
    o->time = 1e3 * seconds / steps;
    o->loss = loss_sum / steps;
    o->test_acc = -1.0;
    free(stream);
    free(x);
    free(y);
    nn_optim_free(opt);
    if (n.gpt) nn_gpt_free(n.gpt);
    else nn_model_free(n.model);
    return 0;
}

int main(int argc, char **argv) {
    bool quick = false;
    const char *workload = NULL, *data = NULL;
    int batches = 0, steps = 50, warmup = 5;
    uint64_t seed = 1;
    nn_option opts[] = {
        NN_OPT_CHOICE("--workload", &workload, "mlp|cnn|rnn|gpt", "which workload (required)"),
        NN_OPT_FLAG("--quick", &quick, "a smoke test: 50 batches, 1,000 test pictures; 1 + 3 "
                    "steps"),
        NN_OPT_INT("--batches", &batches, 0, 1000000, "mlp, cnn: training batches (0 = the "
                   "whole epoch, 938)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "rnn, gpt: timed steps"),
        NN_OPT_INT("--warmup", &warmup, 0, 1000000, "rnn, gpt: untimed steps first"),
        NN_OPT_STR("--data", &data, "DIR", "the Fashion-MNIST folder (default: Debian's)"),
        NN_OPT_SEED(&seed),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Times one of issue 13's chapter workloads (mlp, cnn: an epoch of\n"
                     "Fashion-MNIST; rnn, gpt: training steps on synthetic tokens) and prints\n"
                     "time, peak RSS and loss; bench/compare.sh sets it beside PyTorch.",
                     opts, nopt);
    if (!workload) {
        fprintf(stderr, "bench_workloads: --workload mlp|cnn|rnn|gpt is required\n");
        return 2;
    }
    int test_limit = 0;
    if (quick) {
        if (!nn_option_given(opts, nopt, "--batches")) batches = 50;
        if (!nn_option_given(opts, nopt, "--steps")) steps = 3;
        if (!nn_option_given(opts, nopt, "--warmup")) warmup = 1;
        test_limit = 1000;
    }
    printf("seed %llu, %d thread%s\n", (unsigned long long)seed, thread_count(),
           thread_count() > 1 ? "s" : "");
    nn_seed(seed);
    outcome o = {0};
    bool images = !strcmp(workload, "mlp") || !strcmp(workload, "cnn");
    int rc = images ? run_images(!strcmp(workload, "cnn"), batches, test_limit, data, &o)
                    : run_sequences(!strcmp(workload, "gpt"), steps, warmup, seed, &o);
    nn_graph_release();
    if (rc != 0) return rc;
    char acc[32] = "-";
    if (o.test_acc >= 0.0) snprintf(acc, sizeof acc, "%.4f", o.test_acc);
    printf("  %s %.3f %s, peak RSS %.1f MiB, mean loss %.4f, last %.4f, test accuracy %s\n",
           workload, o.time, images ? "s/epoch" : "ms/step", peak_rss_mib(), o.loss,
           o.final_loss, acc);
    printf("result: workload=%s threads=%d time=%.4f unit=%s peak_rss_mib=%.1f loss=%.4f "
           "final_loss=%.4f test_acc=%s\n", workload, thread_count(), o.time,
           images ? "s/epoch" : "ms/step", peak_rss_mib(), o.loss, o.final_loss, acc);
    return 0;
}
