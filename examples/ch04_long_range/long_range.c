/* examples/ch04_long_range/long_range.c — why long sentences are hard for an RNN (长期依赖).
 *
 * The tutorial, at the start of the Transformer chapter: RNN会出现当句子过长,会出现长期依赖困难的
 * 问题 — when a sentence is long, an RNN has trouble with long-range dependencies. Here that is
 * measured on a task where the answer sits D steps back and nothing in between helps:
 *
 *   sequence   s  d1 d2 ... dD  ?         T = D + 2 tokens
 *   target     s                           (which of K = 8 symbols started the sequence)
 *   s: one of K symbols (ids 0 .. 7); d1 .. dD: random distractors from 8 other tokens
 *   (ids 8 .. 15); ?: the query token (id 16), the step whose state is read. Chance: 1/K.
 *
 *   model   ids (B, T) -> embedding (B, T, E) -> cell over T steps -> h_T (B, H)
 *           -> linear (B, K) -> cross-entropy L = -(1/B) sum log p[s]
 *   cells   RNN   h' = tanh(x Wx + h Wh + b)
 *           GRU   h' = (1 - z) * n + z * h        z: the update gate
 *           LSTM  c' = f * c + i * g, h' = o * tanh(c')   f: the forget gate
 *
 * Why the vanilla RNN fails: backpropagation through time multiplies one Jacobian per step,
 *   dL/dx_1 = dL/dh_T * dh_T/dh_{T-1} * ... * dh_2/dh_1 * dh_1/dx_1,
 *   dh'/dh = diag(1 - h'^2) Wh   (RNN)
 * and when those factors are smaller than 1 the gradient reaching the first token shrinks
 * geometrically with D (the vanishing gradient of chapter 2, now along time). The gated cells
 * have an additive path: dc'/dc = f (LSTM) and dh'/dh contains z (GRU), which the network
 * can push towards 1 to carry both the memory and its gradient across many steps.
 *
 * Measured for each cell and each D, with the same hidden size, the same optimizer (Adam,
 * gradient norm clipped at 1) and the same number of steps on fresh random batches:
 *   - the held-out accuracy (a fixed set of sequences never trained on), against chance 1/K;
 *   - the gradient ratio ||dL/dx_1|| / ||dL/dx_T||: the gradient of the loss with respect to
 *     the embedding vector of the first token (the symbol) relative to the one at the last
 *     step (the query), summed over the held-out set, at initialisation and after training.
 *     x = the embedding output (B, T, E); after nn_backward its grad holds dL/dx_t per step.
 *
 *   long_range [--quick | --full] [--distances LIST] [--steps N] [--hidden N] [--lr X]
 *              [--seed N] [--out DIR]                               (--help lists them)
 *   default  D = 5, 10, 15; 1000 steps per (cell, D)             ~11 s on 2 cores
 *   --full   D = 5, 10, 20, 40, 80; 3000 steps per (cell, D)      ~3-4 minutes on 2 cores
 *   --quick  D = 2, 6; 60 steps (for the tests, under a second)
 *   --distances 5,10,20  any list of up to 8 distances (it replaces the lists above)
 * Writes DIR/ch04_long_range_accuracy.svg (accuracy vs D, one line per cell, and chance) and
 * DIR/ch04_long_range_grad.svg (log10 of the gradient ratio vs D; the y axis shows log10
 * values, so -6 means one millionth). DIR: out by default; exit status 1 when it cannot.
 * --transformer adds chapter 5's model to the same tables and charts: embedding plus a learned
 * position table (T, 16), two pre-LayerNorm blocks with 2-head causal attention (nn/net/
 * transformer.h), a final LayerNorm, and the output at the query's position into the same
 * linear layer. Its gradient ratio is measured at the same x (the token embedding output).
 *
 * What --full measured (seed 1, H = 32, lr 0.003): all three cells reach 100% at D = 5 and
 * 10; at D = 20 the RNN is at chance (0.12) while GRU and LSTM stay at 100%; at D = 40 and
 * 80 all three stay at chance within 3000 steps. The gradient ratio at initialisation says
 * why: at D = 20 it is 1e-6 (RNN), 4e-5 (GRU), 2e-2 (LSTM, thanks to its forget-gate bias of
 * 1); at D = 40 it is 7e-12, 4e-9, 7e-4. A cell first has to find the faint signal before it
 * can learn to keep it, and beyond D = 20 that search is a matter of luck and learning rate:
 * at D = 40 with 3000 steps, lr 0.02 gave the GRU 100% (RNN, LSTM at chance) and lr 0.01
 * gave the RNN 64% (GRU, LSTM at chance). The Transformer of chapter 5 does not have to carry
 * anything across the steps: attention links the query to the first token directly. With
 * --full --transformer (same seed and settings) it reaches 100% at every D = 5 .. 80, and its
 * gradient ratio at initialisation falls only as 1/T (4e-4 at D = 5, 5e-5 at D = 80), against
 * the cells' geometric fall (RNN 1e-22 at D = 80); per step it costs 4.5 ms at D = 5 and 55 ms
 * at D = 80 (attention is T x T), the RNN 0.5 and 12 ms.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K 8                 /* symbols to remember; chance = 1/K */
#define N_DISTRACT 8        /* distractor tokens */
#define QUERY (K + N_DISTRACT)
#define VOCAB (QUERY + 1)
#define EMBED 16
#define BATCH 32
#define N_TEST 512          /* held-out sequences per D */
#define CLIP 1.0f
#define MAX_D 8             /* distances per run */

#define TF_LAYERS 2         /* the Transformer (--transformer): blocks, heads; width EMBED */
#define TF_HEADS 2

/* The models compared: the three cells, and with --transformer chapter 5's attention. */
typedef struct model_kind {
    const char *name;
    nn_cell_kind cell;
    bool transformer;
} model_kind;
static const model_kind kinds[] = {
    {"rnn", NN_CELL_RNN, false}, {"gru", NN_CELL_GRU, false}, {"lstm", NN_CELL_LSTM, false},
    {"transformer", NN_CELL_RNN, true},
};
enum { MAX_MODELS = sizeof kinds / sizeof kinds[0] };

/* One sequence: the symbol, D distractors, the query. ids[T], returns the symbol. */
static int make_sequence(nn_rng *rng, int D, int *ids) {
    int s = nn_rng_int(rng, K);
    ids[0] = s;
    for (int t = 1; t <= D; t++) ids[t] = K + nn_rng_int(rng, N_DISTRACT);
    ids[D + 1] = QUERY;
    return s;
}

typedef struct net {
    nn_model *m;
    nn_embedding_layer *embed;
    nn_rnn_layer *cell;                          /* the recurrent models */
    nn_embedding_layer *pos;                     /* the Transformer: learned positions, */
    nn_transformer_block *blocks[TF_LAYERS];     /* blocks and a final LayerNorm */
    nn_layer_norm_layer *ln;
    nn_linear_layer *head;
} net;

/* A recurrent model reads T steps into h_T; the Transformer (width EMBED, T positions) reads
 * all T tokens at once, and its output at the query's position plays the role of h_T. */
static net net_new(const model_kind *kind, int hidden, int T) {
    net n = {.m = nn_model_new()};
    n.embed = nn_embedding_layer_new(n.m, "embed", VOCAB, EMBED, 1.0f);
    if (kind->transformer) {
        n.pos = nn_embedding_layer_new(n.m, "pos", T, EMBED, 1.0f);
        for (int l = 0; l < TF_LAYERS; l++) {
            char name[16];
            snprintf(name, sizeof name, "block%d", l);
            n.blocks[l] = nn_transformer_block_new(n.m, name, EMBED, TF_HEADS, 0, true, 0.0f,
                                                   TF_LAYERS);
        }
        n.ln = nn_layer_norm_layer_new(n.m, "ln", EMBED);
        hidden = EMBED;
    } else {
        n.cell = nn_rnn_layer_new(n.m, NULL, kind->cell, EMBED, hidden);
    }
    n.head = nn_linear_layer_new(n.m, "head", hidden, K, NN_INIT_XAVIER);
    return n;
}

/* ids (B, T) -> logits (B, K); the embedding output goes to *x_out (for its gradient). */
static nn_tensor *net_forward(const net *n, const int *ids, int B, int T, nn_tensor **x_out) {
    nn_tensor *x = nn_embedding_layer_forward(n->embed, ids, B, T);   /* (B, T, E) */
    if (x_out) *x_out = x;
    if (!n->pos) {
        nn_rnn_state last;
        nn_rnn_layer_forward(n->cell, x, NULL, &last);                /* last.h (B, H) */
        return nn_linear_layer_forward(n->head, last.h);              /* (B, K) */
    }
    int *pid = nn_arena_alloc(sizeof(int) * (size_t)T);
    nn_position_ids(pid, 0, T);
    nn_tensor *h = nn_add(x, nn_embedding(n->pos->W, pid, NN_SHAPE(T)));   /* (B, T, E) */
    for (int l = 0; l < TF_LAYERS; l++) h = nn_transformer_block_forward(n->blocks[l], h);
    h = nn_layer_norm_layer_forward(n->ln, nn_slice(h, 1, T - 1, 1));       /* (B, 1, E) */
    return nn_linear_layer_forward(n->head, nn_reshape(h, NN_SHAPE(B, EMBED)));  /* (B, K) */
}

/* sqrt(sum over b, e of g[b, t, e]^2) for a (B, T, E) gradient */
static double step_norm(const float *g, int B, int T, int E, int t) {
    double s = 0.0;
    for (int b = 0; b < B; b++)
        for (int e = 0; e < E; e++) {
            double v = g[((size_t)b * T + t) * E + e];
            s += v * v;
        }
    return sqrt(s);
}

typedef struct measure {
    float loss, acc;        /* held-out cross-entropy and accuracy */
    double grad_first;      /* ||dL/dx_1||, the first token (the symbol) */
    double grad_last;       /* ||dL/dx_T||, the query step */
} measure;

/* Loss, accuracy and the gradient ratio on the held-out set (a backward, no optimizer step). */
static measure evaluate(const net *n, const int *ids, const int *labels, int T) {
    measure r;
    nn_tensor *x;
    nn_tensor *logits = net_forward(n, ids, N_TEST, T, &x);
    nn_tensor *loss = nn_cross_entropy_loss(logits, labels);
    r.loss = nn_item(loss);
    int pred[N_TEST], right = 0;
    nn_argmax_rows(logits, pred);
    for (int i = 0; i < N_TEST; i++) right += pred[i] == labels[i];
    r.acc = (float)right / N_TEST;
    nn_model_zero_grad(n->m);
    nn_backward(loss);
    r.grad_first = step_norm(x->grad, N_TEST, T, EMBED, 0);
    r.grad_last = step_norm(x->grad, N_TEST, T, EMBED, T - 1);
    nn_model_zero_grad(n->m);
    nn_graph_clear();
    return r;
}

typedef struct outcome {
    measure init, trained;
    double ms_per_step;
    size_t params;
} outcome;

static double ratio(const measure *m) { return m->grad_last > 0 ? m->grad_first / m->grad_last : 0; }

static void train_one(const model_kind *kind, int hidden, int D, int steps, float lr,
                      uint64_t seed, const int *test_ids, const int *test_labels, outcome *o) {
    int T = D + 2;
    nn_seed(seed + 1);   /* the same initial weights for a cell at every D */
    net n = net_new(kind, hidden, T);
    o->params = n.m->count;
    nn_optim *adam = nn_adam_new(n.m, lr, 0.0f);
    o->init = evaluate(&n, test_ids, test_labels, T);

    nn_rng rng;
    nn_rng_seed(&rng, seed * 1000 + (uint64_t)D);   /* the same training batches for every cell */
    int *ids = malloc((size_t)BATCH * T * sizeof *ids), labels[BATCH];
    char label[32];
    snprintf(label, sizeof label, "%s D=%d", kind->name, D);
    nn_progress bar;
    nn_progress_start(&bar, label, steps);
    double t0 = nn_seconds();
    for (int step = 0; step < steps; step++) {
        for (int b = 0; b < BATCH; b++) labels[b] = make_sequence(&rng, D, ids + (size_t)b * T);
        nn_tensor *loss = nn_cross_entropy_loss(net_forward(&n, ids, BATCH, T, NULL), labels);
        float value = nn_item(loss);
        nn_model_zero_grad(n.m);
        nn_backward(loss);
        nn_clip_grad_norm(n.m, CLIP);
        nn_optim_step(adam);
        nn_graph_clear();
        nn_progress_update(&bar, step + 1, "loss %.3f", value);
    }
    o->ms_per_step = 1000.0 * (nn_seconds() - t0) / steps;
    nn_progress_finish(&bar);
    o->trained = evaluate(&n, test_ids, test_labels, T);
    free(ids);
    nn_optim_free(adam);
    nn_model_free(n.m);
}

/* "5,10,20" -> ds[], returns the count, or -1 when it is not such a list. */
static int parse_distances(const char *s, int *ds) {
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 1000 || n == MAX_D || (*end && *end != ',')) return -1;
        ds[n++] = (int)v;
        s = *end ? end + 1 : end;
        if (*end && !*s) return -1;   /* a trailing comma */
    }
    return n ? n : -1;
}

int main(int argc, char **argv) {
    bool quick = false, full = false, transformer = false;
    uint64_t seed = 1;
    int steps = 1000, hidden = 32;
    float lr = 0.003f;
    const char *out_dir = "out", *d_list = NULL;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests: D = 2, 6 and 60 steps"),
        NN_OPT_FLAG("--full", &full, "D = 5, 10, 20, 40, 80 and 3000 steps (minutes)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000,
                   "training steps per cell and distance (60 with --quick, 3000 with --full)"),
        NN_OPT_STR("--distances", &d_list, "LIST",
                   "distances D, comma-separated (at most 8, each 1 .. 1000); without it "
                   "5,10,15 (2,6 with --quick)"),
        NN_OPT_INT("--hidden", &hidden, 1, 1024, "hidden size H of every cell"),
        NN_OPT_FLAG("--transformer", &transformer, "add chapter 5's Transformer (2 blocks, 2 "
                    "heads, width 16) to the comparison"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's learning rate"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the two SVG pictures (made if missing)"),
    };
    int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Why long sentences are hard for an RNN: remember the first of D + 2 tokens.\n"
                     "RNN, GRU and LSTM trained alike at several distances D; held-out accuracy\n"
                     "and the gradient reaching the first token, relative to the last.",
                     opts, nopts);
    if (quick) full = false; /* --quick wins */
    if (!nn_option_given(opts, nopts, "--steps")) steps = quick ? 60 : full ? 3000 : steps;
    static const int d_quick[] = {2, 6}, d_default[] = {5, 10, 15}, d_full[] = {5, 10, 20, 40, 80};
    int ds[MAX_D], nd = quick ? 2 : full ? 5 : 3;
    memcpy(ds, quick ? d_quick : full ? d_full : d_default, (size_t)nd * sizeof *ds);
    if (d_list && (nd = parse_distances(d_list, ds)) < 0) {
        fprintf(stderr, "long_range: --distances takes 1 to %d whole numbers 1 .. 1000 "
                "separated by commas, e.g. 5,10,20; not '%s'\n", MAX_D, d_list);
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        fprintf(stderr, "usage: %s [options]\n'%s --help' lists the options with their "
                "meaning, range and default.\n", prog, prog);
        return 2;
    }

    int n_models = transformer ? MAX_MODELS : MAX_MODELS - 1;
    printf("chapter 4: long-range dependencies (长期依赖), RNN vs GRU vs LSTM%s\n",
           transformer ? " vs Transformer (chapter 5)" : "");
    printf("seed %llu; %s run; %d steps of Adam (lr %g, batch %d, gradient norm clipped at %g) "
           "per cell and distance\n", (unsigned long long)seed,
           quick ? "--quick" : full ? "--full" : "default (--full for D up to 80)", steps, lr,
           BATCH, CLIP);
    printf("task: s d1 .. dD ?  ->  s   (s: 1 of %d symbols, d: %d distractor tokens, ?: the "
           "query; T = D + 2)\n", K, N_DISTRACT);
    printf("model: ids (B, T) -> embedding (B, T, %d) -> cell, H = %d -> h_T (B, %d) -> linear "
           "(B, %d) -> cross-entropy\n", EMBED, hidden, hidden, K);
    if (transformer)
        printf("       Transformer: embedding + learned positions (B, T, %d) -> %d causal blocks "
               "(%d heads) -> LayerNorm -> position T (B, %d) -> linear (B, %d)\n", EMBED,
               TF_LAYERS, TF_HEADS, EMBED, K);
    printf("held-out: %d fresh sequences per D; chance accuracy 1/%d = %.3f, "
           "start loss ~ ln %d = %.3f\n", N_TEST, K, 1.0 / K, K, log((double)K));
    printf("gradient ratio: ||dL/dx_1|| / ||dL/dx_T||, x = the embedding output, over the "
           "held-out set\n\n");

    outcome res[MAX_MODELS][MAX_D];
    for (int j = 0; j < nd; j++) {
        int D = ds[j], T = D + 2;
        nn_rng rng;
        nn_rng_seed(&rng, seed * 7919 + 12345 + (uint64_t)D);   /* never the training stream */
        int *test_ids = malloc((size_t)N_TEST * T * sizeof *test_ids), test_labels[N_TEST];
        for (int i = 0; i < N_TEST; i++)
            test_labels[i] = make_sequence(&rng, D, test_ids + (size_t)i * T);
        for (int c = 0; c < n_models; c++) {
            outcome *o = &res[c][j];
            train_one(&kinds[c], hidden, D, steps, lr, seed, test_ids, test_labels, o);
            printf("  %-11s D=%-3d  start loss %.3f (expected ~%.3f)  held-out loss %.3f  "
                   "acc %.3f  %.1f ms/step\n", kinds[c].name, D, o->init.loss,
                   log((double)K), o->trained.loss, o->trained.acc, o->ms_per_step);
        }
        free(test_ids);
    }

    /* ---- the tables ---------------------------------------------------------------------- */
    printf("\nparameters (embedding %d x %d + cell + linear %d -> %d; the Transformer's at the "
           "largest D, its position table grows with T):", VOCAB, EMBED, hidden, K);
    for (int c = 0; c < n_models; c++)
        printf("  %s %zu", kinds[c].name, res[c][nd - 1].params);
    printf("\n\nheld-out accuracy (chance %.3f):\n  %5s", 1.0 / K, "D");
    for (int c = 0; c < n_models; c++) printf(" %11s", kinds[c].name);
    printf("\n");
    for (int j = 0; j < nd; j++) {
        printf("  %5d", ds[j]);
        for (int c = 0; c < n_models; c++) printf(" %11.3f", res[c][j].trained.acc);
        printf("\n");
    }
    printf("\ngradient ratio ||dL/dx_1|| / ||dL/dx_T|| (the symbol's step vs the query's):\n");
    printf("  %5s", "D");
    for (int c = 0; c < n_models; c++) printf(" %11s %10s", kinds[c].name, "trained");
    printf("\n  %5s", "");
    for (int c = 0; c < n_models; c++) printf(" %11s %10s", "init", "");
    printf("\n");
    for (int j = 0; j < nd; j++) {
        printf("  %5d", ds[j]);
        for (int c = 0; c < n_models; c++)
            printf(" %10.2e %10.2e", ratio(&res[c][j].init), ratio(&res[c][j].trained));
        printf("\n");
    }
    printf("\ntime per training step (ms, batch %d):\n  %5s", BATCH, "D");
    for (int c = 0; c < n_models; c++) printf(" %11s", kinds[c].name);
    printf("\n");
    for (int j = 0; j < nd; j++) {
        printf("  %5d", ds[j]);
        for (int c = 0; c < n_models; c++) printf(" %11.2f", res[c][j].ms_per_step);
        printf("\n");
    }

    /* ---- pictures ------------------------------------------------------------------------ */
    float dx[MAX_D], acc[MAX_MODELS][MAX_D], chance[MAX_D];
    float lg_init[MAX_MODELS][MAX_D], lg_trained[MAX_MODELS][MAX_D];
    char names[2 * MAX_MODELS][32];
    nn_series as[MAX_MODELS + 1], gs[2 * MAX_MODELS];
    for (int j = 0; j < nd; j++) {
        dx[j] = (float)ds[j];
        chance[j] = 1.0f / K;
    }
    for (int c = 0; c < n_models; c++) {
        for (int j = 0; j < nd; j++) {
            acc[c][j] = res[c][j].trained.acc;
            lg_init[c][j] = (float)log10(ratio(&res[c][j].init));        /* -inf for 0: skipped */
            lg_trained[c][j] = (float)log10(ratio(&res[c][j].trained));
        }
        const char *name = kinds[c].name;
        as[c] = (nn_series){name, dx, acc[c], nd, NN_PLOT_LINE};
        snprintf(names[2 * c], sizeof names[0], "%s at init", name);
        snprintf(names[2 * c + 1], sizeof names[0], "%s trained", name);
        gs[2 * c] = (nn_series){names[2 * c], dx, lg_init[c], nd, NN_PLOT_LINE};
        gs[2 * c + 1] = (nn_series){names[2 * c + 1], dx, lg_trained[c], nd, NN_PLOT_POINTS};
    }
    as[n_models] = (nn_series){"chance 1/8", dx, chance, nd, NN_PLOT_LINE};
    printf("\n");
    int failed = 0;
    failed += nn_plot_svg_in(out_dir, "ch04_long_range_accuracy.svg",
                             "Remember the first token: held-out accuracy vs distance",
                             "D (distractor tokens between the symbol and the query)",
                             "held-out accuracy", as, n_models + 1) != 0;
    failed += nn_plot_svg_in(out_dir, "ch04_long_range_grad.svg",
                             "Gradient reaching the first token, relative to the last (log10)",
                             "D (distractor tokens between the symbol and the query)",
                             "log10 ||dL/dx_1|| / ||dL/dx_T||", gs, 2 * n_models) != 0;
    printf("\nheld-out accuracy vs D\n");
    nn_plot_ascii(stdout, as, n_models + 1, 44, 10);

    printf("result: seed=%llu steps=%d hidden=%d", (unsigned long long)seed, steps, hidden);
    for (int c = 0; c < n_models; c++) printf(" %s_params=%zu", kinds[c].name, res[c][nd - 1].params);
    for (int c = 0; c < n_models; c++)
        for (int j = 0; j < nd; j++) {
            const char *name = kinds[c].name;
            printf(" %s_acc_d%d=%.3f %s_grad_init_d%d=%.2e %s_grad_trained_d%d=%.2e", name, ds[j],
                   res[c][j].trained.acc, name, ds[j], ratio(&res[c][j].init), name, ds[j],
                   ratio(&res[c][j].trained));
        }
    printf("\n");
    nn_graph_release();
    return failed ? 1 : 0;
}
