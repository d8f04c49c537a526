/* examples/ch06_quantize/quantize.c — 量化 (quantization): store a trained network's weights
 * in 8 or 4 bits instead of 32, and measure what that costs in accuracy and buys in size and
 * speed.
 *
 * The tutorial: 量化就是降低参数的精度 — quantization lowers the precision of the parameters,
 * e.g. from 32-bit floats to 8-bit integers, so the model takes less memory and runs faster,
 * at a small cost in accuracy. Post-training, symmetric (nn/ops/quant.h):
 *   int8, one scale per output channel:  s = max|w| / 127,  q = round(w / s) in [-127, 127]
 *   int4, one scale per group of G weights along the inputs:  s = max|w| / 7,  q in [-7, 7]
 *   dequantized w' = s q;  |w - w'| <= s / 2, and for errors spread evenly over [-s/2, s/2]
 *   the RMS error is s / sqrt(12) (the "predicted" column below)
 * Biases and LayerNorm's gamma / beta (few numbers) stay float32.
 *
 * Chapter 3's two Fashion-MNIST networks (examples/common/fashion_nets.h) and chapter 6's poem
 * GPT (examples/common/ch06_quick_gpt.h) are trained here, then each is saved as fp32 (NNCK),
 * int8, int4 in groups of G (--group, default 32), int4 in groups of 128 and int4 with one
 * scale per output channel ("int4 row", no groups: what the groups buy) (NNQ1 files,
 * nn_model_save_quantized), read back into a copy of the model (nn_model_load_quantized:
 * the weights come back dequantized, the "fake quant" view), and measured:
 *   bytes on disk (and bits per parameter), test accuracy (Fashion) or validation loss in
 *   nats per character (GPT) before and after, and per weight matrix the relative RMS error
 *   sqrt(sum (w - w')^2 / sum w^2).
 * The MLP is also run the way an int8 engine runs it (nn_q8_linear_forward: activations
 * quantized per row, int8 x int8 products summed in int32, scaled back), which rounds the
 * activations too; its accuracy is printed beside the fake-quant one, and each layer's
 * time beside the float matmul's (the fast int8 kernel this CPU has: AVX2 or AVX-512 VNNI).
 * The yardstick: int8 post-training quantization usually costs well under 1 point of accuracy
 * (Jacob et al. 2018; Krishnamoorthi 2018); int4 without calibration costs more, which is why
 * GPTQ / AWQ use small groups (128) and calibration data.
 *
 *   quantize [--quick | --full] [--group G] [--seed N] [--data DIR] [--out DIR]
 *   default  5,000 training pictures, MLP 3 / CNN 2 epochs, 5,000 test pictures; the
 *            chapter 6 default GPT (about 15 s): well under a minute
 *   --full   55,000 pictures, MLP 10 / CNN 6 epochs, the 10,000 test pictures; the --full
 *            GPT (minutes)
 *   --quick  1,000 pictures, 1 epoch each, 500 test pictures, the tiny GPT (the smoke
 *            tests: a few seconds)
 * Without Debian's dataset-fashion-mnist (or fortunes-zh) it runs on synthetic stand-ins and
 * says so. Writes the checkpoints DIR/ch06_quantize_<model>.<nnck|int8.nnq|int4gG.nnq|...> and
 * DIR/ch06_quantize.svg (test accuracy against bytes on disk). Exit status 1 when a file
 * read back differs from the in-memory round trip (nn_quant_roundtrip_param) or a file
 * cannot be written or read.
 */
#include "../common/ch06_quick_gpt.h"
#include "../common/fashion_nets.h"

#include <sys/stat.h>

enum { SCHEMES = 5, MAXP = 256 };   /* MAXP: parameters per model shown */
enum { WHOLE_ROW = 1 << 30 };       /* an int4 group longer than any row: one per row */
typedef struct scheme {
    const char *name, *ext;   /* "int4 g32", "int4g32.nnq" */
    int bits, group;          /* bits 32: the float checkpoint */
} scheme;

/* What one model gives under each scheme. */
typedef struct outcome {
    const char *key;
    float score[SCHEMES];     /* test accuracy, or validation loss (GPT) */
    long bytes[SCHEMES];
    float worst_err[SCHEMES]; /* the largest relative RMS error of a weight matrix */
    size_t params;
} outcome;

static int failures = 0;

static long file_bytes(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* sqrt(sum (a - b)^2 / sum a^2) over n values. */
static float rel_rms(const float *a, const float *b, size_t n) {
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) e += (double)(a[i] - b[i]) * (a[i] - b[i]), s += (double)a[i] * a[i];
    return s > 0 ? (float)sqrt(e / s) : 0.0f;
}

/* The predicted relative RMS error of int8 for a linear layer: rounding errors spread
 * evenly over [-s/2, s/2] have RMS s / sqrt(12); per output channel s = max|w| / 127. */
static float predicted_int8(const nn_linear_layer *l) {
    nn_q8_weights *q = nn_q8_weights_from_linear(l);
    double e = 0, s = 0;
    for (int n = 0; n < q->n; n++) e += (double)q->scale[n] * q->scale[n] / 12 * q->k;
    for (size_t i = 0; i < l->W->size; i++) s += (double)l->W->data[i] * l->W->data[i];
    nn_q8_weights_free(q);
    return (float)sqrt(e / s);
}

/* Save `m` under scheme k into dir, load it into `copy` (same architecture), check that the
 * values equal the in-memory round trip, and fill the bytes and the worst error. The error
 * of each weight matrix goes to err[p] (NAN for the ones kept in float32). */
static int save_and_load(nn_model *m, nn_model *copy, const scheme *sc, int k,
                         const char *dir, const char *key, outcome *o, float *err) {
    char file[128], path[1024];
    snprintf(file, sizeof file, "ch06_quantize_%s.%s", key, sc[k].ext);
    if (!nn_out_path(path, sizeof path, dir, file)) {
        fprintf(stderr, "quantize: %s\n", nn_last_error());
        return -1;
    }
    int rc = sc[k].bits == 32 ? nn_model_save(m, path)
                              : nn_model_save_quantized(m, path, sc[k].bits, sc[k].group);
    if (rc == 0) rc = sc[k].bits == 32 ? nn_model_load(copy, path)
                                       : nn_model_load_quantized(copy, path);
    if (rc != 0) {
        fprintf(stderr, "quantize: %s\n", nn_last_error());
        return -1;
    }
    o->bytes[k] = file_bytes(path);
    /* the same numbers as quantizing in memory (the file holds exactly the fake quant) */
    float *mem = malloc(m->count * sizeof *mem), *keep = malloc(m->count * sizeof *keep);
    memcpy(keep, m->data, m->count * sizeof *keep);
    for (int p = 0; sc[k].bits != 32 && p < m->nparams; p++)
        nn_quant_roundtrip_param(m, p, sc[k].bits, sc[k].group);
    memcpy(mem, m->data, m->count * sizeof *mem);
    memcpy(m->data, keep, m->count * sizeof *keep);   /* m back to its float values */
    if (memcmp(mem, copy->data, m->count * sizeof *mem) != 0) {
        fprintf(stderr, "quantize: %s read back from %s differs from the in-memory round "
                "trip\n", key, path);
        failures++;
    }
    free(mem), free(keep);
    o->worst_err[k] = 0;
    for (int p = 0; p < m->nparams && p < MAXP; p++) {
        const nn_tensor *t = m->params[p];
        bool q = t->ndim >= 2 && m->decay[p];
        err[p] = q ? rel_rms(t->data, copy->params[p]->data, t->size) : NAN;
        if (q && err[p] > o->worst_err[k]) o->worst_err[k] = err[p];
    }
    return 0;
}

static const char *size_str(long b, char *buf, size_t n) {
    if (b >= 1 << 20) snprintf(buf, n, "%.2f MiB", b / 1048576.0);
    else snprintf(buf, n, "%.1f KiB", b / 1024.0);
    return buf;
}

/* The table of sizes and scores, and the per-matrix errors (all of them, or the `show`
 * largest matrices for the GPT). */
static void report(const nn_model *m, const scheme *sc, const outcome *o, float err[][MAXP],
                   const char *score_name, bool higher_better, const float *predicted) {
    char b[32];
    printf("  %-10s %12s %10s %12s %12s\n", "scheme", "on disk", "bits/param", score_name,
           "change");
    for (int k = 0; k < SCHEMES; k++) {
        float d = o->score[k] - o->score[0];
        printf("  %-10s %12s %10.2f %12.4f %+12.4f\n", sc[k].name, size_str(o->bytes[k], b, sizeof b),
               8.0 * o->bytes[k] / (double)o->params, o->score[k], higher_better ? 100 * d : d);
    }
    printf("  (change: %s)\n", higher_better ? "points of accuracy" : "nats per character");
    printf("  relative RMS error of each weight matrix, sqrt(sum (w - w')^2 / sum w^2):\n");
    printf("    %-20s %-15s", "parameter", "shape");
    for (int k = 1; k < SCHEMES; k++) printf(" %10s", sc[k].name);
    printf(predicted ? " %12s\n" : "%s\n", predicted ? "int8 pred." : "");
    int shown = 0, more = 0;
    for (int p = 0; p < m->nparams && p < MAXP; p++) {
        if (isnan(err[1][p])) continue;
        if (++shown > 14) {
            more++;
            continue;
        }
        char s[48];
        printf("    %-20s %-15s", m->params[p]->name, nn_shape_str(m->params[p], s, sizeof s));
        for (int k = 1; k < SCHEMES; k++) printf(" %9.2f%%", 100 * err[k][p]);
        if (!predicted) printf("\n");
        else if (!isnan(predicted[p])) printf(" %11.2f%%\n", 100 * predicted[p]);
        else printf(" %12s\n", "-");
    }
    if (more) printf("    ... and %d more\n", more);
}

/* ---- Fashion-MNIST ------------------------------------------------------------------------ */

/* The MLP as an int8 engine runs it: every layer through nn_q8_linear_forward. */
typedef struct q8_mlp {
    nn_q8_weights *w[3];
    nn_tensor *b[3];
    int layers;
} q8_mlp;

static float q8_mlp_evaluate(const q8_mlp *q, const nn_dataset *ds) {
    bool grad = nn_set_grad_enabled(false);
    int right = 0, labels[500], pred[500];
    for (int s = 0; s < ds->n; s += 500) {
        nn_tensor *h = nn_flatten(nn_dataset_batch(ds, s, 500, labels));   /* (B, 784) */
        for (int l = 0; l < q->layers; l++) {
            h = nn_q8_linear_forward(q->w[l], q->b[l], h);                  /* (B, out) */
            if (l + 1 < q->layers) h = nn_relu(h);
        }
        nn_argmax_rows(h, pred);
        for (int i = 0; i < h->shape[0]; i++) right += pred[i] == labels[i];
        nn_graph_clear();
    }
    nn_set_grad_enabled(grad);
    return (float)right / (float)ds->n;
}

/* Seconds per call of f(l, q, x): the best of 3 rounds of `budget` seconds each (the
 * round least disturbed by other programs). */
static double best_time(int which, const nn_linear_layer *l, const nn_q8_weights *q,
                        nn_tensor *x, double budget) {
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        int reps = 0;
        double t0 = nn_seconds(), t;
        do {
            if (which == 0) nn_linear_layer_forward(l, x);   /* x W + b, float32 */
            else nn_q8_linear_forward(q, l->b, x);           /* the same in int8 */
            nn_graph_clear(), reps++;
        } while ((t = nn_seconds() - t0) < budget);
        if (t / reps < best) best = t / reps;
    }
    return best;
}

/* Seconds per call of a layer, float (x W + b) and int8, on a batch of B pictures. */
static void time_layer(const nn_linear_layer *l, const nn_q8_weights *q, int B, double budget,
                       double *t_float, double *t_int8) {
    bool grad = nn_set_grad_enabled(false);
    nn_tensor *x = nn_rand_uniform(0, 1, NN_SHAPE(B, l->in));
    *t_float = best_time(0, l, q, x, budget);
    *t_int8 = best_time(1, l, q, x, budget);
    nn_tensor_free(x);
    nn_set_grad_enabled(grad);
}

static void fashion_run(fashion_net *n, fashion_net *copy, nn_dataset *tr, nn_dataset *test,
                        int epochs, const scheme *sc, const char *dir, const char *key,
                        outcome *o, float *q8_true, bool quick) {
    printf("\n== %s: %zu parameters, %d epoch%s on %d pictures ==\n", n->name, n->model->count,
           epochs, epochs > 1 ? "s" : "", tr->n);
    fashion_train(n, tr, epochs, 2e-3f, NULL, NULL, false);
    o->key = key, o->params = n->model->count;
    static float err[SCHEMES][MAXP], predicted[MAXP];
    for (int k = 0; k < SCHEMES; k++) {
        if (save_and_load(n->model, copy->model, sc, k, dir, key, o, err[k]) != 0) {
            failures++;
            o->score[k] = NAN;
            continue;
        }
        o->score[k] = fashion_evaluate(copy, test, NULL, NULL);
    }
    for (int p = 0; p < n->model->nparams && p < MAXP; p++) predicted[p] = NAN;
    nn_linear_layer *lin[3] = {n->fc1, n->fc2, n->fc3};
    for (int l = 0; l < 3; l++)
        for (int p = 0; lin[l] && p < n->model->nparams && p < MAXP; p++)
            if (n->model->params[p] == lin[l]->W) predicted[p] = predicted_int8(lin[l]);
    printf("-- %s, test accuracy on %d pictures --\n", n->name, test->n);
    report(n->model, sc, o, err, "accuracy", true, predicted);
    if (n->kind != FASHION_MLP) return;

    /* the true int8 path, and its speed */
    q8_mlp q = {.layers = n->fc3 ? 3 : 2};
    for (int l = 0; l < q.layers; l++) q.w[l] = nn_q8_weights_from_linear(lin[l]), q.b[l] = lin[l]->b;
    *q8_true = q8_mlp_evaluate(&q, test);
    printf("  int8 engine (weights AND activations in int8, int32 sums, nn_q8_linear_forward): "
           "accuracy %.4f (fake-quant int8 %.4f, fp32 %.4f)\n", *q8_true, o->score[1],
           o->score[0]);
    printf("  speed of each layer, fp32 nn_matmul + bias vs int8 (%s kernel), ms per call "
           "(best of 3):\n",
           nn_q8_kernel_name(nn_q8_kernel_in_use()));
    printf("    %-6s %-11s %10s %10s %8s   %10s %10s %8s\n", "layer", "in x out", "B=500 fp32",
           "int8", "ratio", "B=1 fp32", "int8", "ratio");
    for (int l = 0; l < q.layers; l++) {
        double f500, i500, f1, i1, budget = quick ? 0.003 : 0.05;
        time_layer(lin[l], q.w[l], 500, budget, &f500, &i500);
        time_layer(lin[l], q.w[l], 1, budget, &f1, &i1);
        char shape[24];
        snprintf(shape, sizeof shape, "%dx%d", lin[l]->in, lin[l]->out);
        printf("    fc%-4d %-11s %10.3f %10.3f %7.2fx   %10.4f %10.4f %7.2fx\n", l + 1, shape,
               1e3 * f500, 1e3 * i500, f500 / i500, 1e3 * f1, 1e3 * i1, f1 / i1);
        nn_q8_weights_free(q.w[l]);
    }
}

/* ---- the GPT -------------------------------------------------------------------------------- */

static int gpt_run_all(ch06_level level, uint64_t seed, const scheme *sc, const char *dir,
                       outcome *o) {
    poems po;
    if (poems_open(&po, NULL, false, level == CH06_QUICK ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return -1;
    }
    printf("\n== the chapter 6 GPT ==\n");
    poems_describe(&po, false);
    ch06_gpt m;
    if (ch06_gpt_get(&m, &po, level, NULL, seed) != 0) {
        poems_close(&po);
        return -1;
    }
    ch06_describe(&m, NULL);
    nn_gpt *copy = nn_gpt_new(&m.gpt->cfg);
    o->key = "gpt", o->params = m.gpt->model->count;
    static float err[SCHEMES][MAXP];
    for (int k = 0; k < SCHEMES; k++) {
        if (save_and_load(m.gpt->model, copy->model, sc, k, dir, "gpt", o, err[k]) != 0) {
            failures++;
            o->score[k] = NAN;
            continue;
        }
        o->score[k] = (float)gpt_span_loss(copy, po.val);
    }
    printf("-- GPT, validation loss (nats per character) --\n");
    report(m.gpt->model, sc, o, err, "val loss", false, NULL);
    nn_gpt_free(copy), nn_gpt_free(m.gpt);
    poems_close(&po);
    return 0;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *data_dir = NULL;
    int group = 32;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "1,000 pictures, 1 epoch, the tiny GPT (for the tests)"),
        NN_OPT_FLAG("--full", &full, "55,000 pictures, more epochs, the --full GPT (minutes)"),
        NN_OPT_INT("--group", &group, 1, 4096, "weights per scale of the first int4 scheme"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--data", &data_dir, "DIR", "the Fashion-MNIST folder (default: Debian's)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the checkpoints and the chart"),
    };
    nn_parse_options(argc, argv,
                     "量化 (quantization): chapter 3's MLP and CNN and chapter 6's GPT, saved as fp32,\n"
                     "int8 and int4; bytes on disk, accuracy / loss before and after, the error of\n"
                     "each weight matrix, and the int8 matmul's speed beside the float one.",
                     opts, NN_COUNTOF(opts));
    printf("chapter 6: quantization (量化), post-training, symmetric\n");
    printf("  int8: s = max|w| / 127 per output channel; int4: s = max|w| / 7 per group of G "
           "inputs; w' = s * round(w / s)\n");
    printf("seed %llu, mode %s\n", (unsigned long long)seed,
           quick ? "--quick" : full ? "--full" : "default (--full for the whole data set)");
    nn_seed(seed);
    char g_name[16], g_ext[24];
    snprintf(g_name, sizeof g_name, "int4 g%d", group);
    snprintf(g_ext, sizeof g_ext, "int4g%d.nnq", group);
    /* the last: int4 with one scale per output channel, as int8 has (a group as long as the
     * row), to show what the groups buy */
    const scheme sc[SCHEMES] = {{"fp32", "nnck", 32, 0}, {"int8", "int8.nnq", 8, 0},
                                {g_name, g_ext, 4, group}, {"int4 g128", "int4g128.nnq", 4, 128},
                                {"int4 row", "int4row.nnq", 4, WHOLE_ROW}};

    int n_train = quick ? 1000 : full ? 55000 : 5000;
    int n_test = quick ? 500 : full ? 10000 : 5000;
    int mlp_epochs = quick ? 1 : full ? 10 : 3, cnn_epochs = quick ? 1 : full ? 6 : 2;
    nn_dataset tr, val, test;
    const char *data_name;
    if (fashion_open("quantize", data_dir, n_train, quick ? 100 : 1000, n_test,
                     quick ? 600 : 3000, quick ? 300 : 1000, &tr, &val, &test, &data_name) != 0)
        return 1;
    printf("data (%s): %d training, %d test pictures\n", data_name, tr.n, test.n);

    outcome res[3];
    float q8_true = NAN;
    {
        fashion_net n = fashion_mlp_new("MLP", 256, 128), copy = fashion_mlp_new("MLP", 256, 128);
        fashion_run(&n, &copy, &tr, &test, mlp_epochs, sc, out_dir, "mlp", &res[0], &q8_true,
                    quick);
        nn_model_free(n.model), nn_model_free(copy.model);
    }
    {
        fashion_net n = fashion_cnn_new("CNN", 0.25f), copy = fashion_cnn_new("CNN", 0.25f);
        float unused;
        fashion_run(&n, &copy, &tr, &test, cnn_epochs, sc, out_dir, "cnn", &res[1], &unused,
                    quick);
        nn_model_free(n.model), nn_model_free(copy.model);
    }
    if (gpt_run_all(ch06_level_of(quick, full), seed, sc, out_dir, &res[2]) != 0) return 1;

    /* ---- summary, chart, result line ---- */
    printf("\n== summary ==\n  %-6s", "model");
    for (int k = 0; k < SCHEMES; k++) printf(" %19s", sc[k].name);
    printf("\n");
    for (int i = 0; i < 3; i++) {
        printf("  %-6s", res[i].key);
        for (int k = 0; k < SCHEMES; k++) {
            char b[32], cell[48];
            snprintf(cell, sizeof cell, "%.4f (%s)", res[i].score[k],
                     size_str(res[i].bytes[k], b, sizeof b));
            printf(" %19s", cell);
        }
        printf("\n");
    }
    printf("  (mlp, cnn: test accuracy; gpt: validation loss, nats/char; file size in brackets)\n");
    printf("  yardstick: int8 post-training quantization usually costs well under 1 point of "
           "accuracy\n  (Jacob et al. 2018; Krishnamoorthi 2018); int4 without calibration "
           "costs more (GPTQ / AWQ: groups of 128 plus calibration)\n");

    float xs[2][SCHEMES], ys[2][SCHEMES];
    nn_series series[2];
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < SCHEMES; k++) xs[i][k] = res[i].bytes[k] / 1024.0f, ys[i][k] = res[i].score[k];
        series[i] = (nn_series){i ? "CNN" : "MLP", xs[i], ys[i], SCHEMES, NN_PLOT_POINTS};
    }
    if (nn_plot_svg_in(out_dir, "ch06_quantize.svg",
                       "Post-training quantization on Fashion-MNIST (fp32, int8, int4)",
                       "checkpoint size (KiB)", "test accuracy", series, 2) != 0)
        failures++;

    printf("result: data=%s train=%d test=%d group=%d kernel=%s", data_name, tr.n, test.n, group,
           nn_q8_kernel_name(nn_q8_kernel_in_use()));
    const char *keys[SCHEMES] = {"fp32", "int8", "int4g", "int4g128", "int4row"};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < SCHEMES; k++)
            printf(" %s_%s=%.4f", res[i].key, keys[k], res[i].score[k]);
    printf(" mlp_int8_engine=%.4f mlp_int8_bytes=%ld mlp_fp32_bytes=%ld gpt_int8_worst_err=%.4f\n",
           q8_true, res[0].bytes[1], res[0].bytes[0], res[2].worst_err[1]);

    nn_dataset_free(&tr), nn_dataset_free(&val), nn_dataset_free(&test);
    nn_graph_release();
    return failures ? 1 : 0;
}
