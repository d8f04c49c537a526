/* examples/ch06_scaling/scaling.c — 大模型 (large models) and 涌现 (emergence): what more
 * parameters buy, on one small task.
 *
 * The tutorial: 参数量特别大的模型叫做大模型; 模型规模变大后突然出现小模型没有的能力,叫做涌现 —
 * an ability that small models lack and that appears, seemingly suddenly, once the model is
 * large enough. Two published observations to set beside our toy:
 *   scaling law   Kaplan et al. 2020: the test loss of language models falls as a power of
 *                 the (non-embedding) parameter count, L(N) = (N_c / N)^0.076, smoothly, over
 *                 six orders of magnitude (each model trained long enough)
 *   emergence     Wei et al. 2022: some tasks' accuracy stays near chance, then jumps
 *                 (e.g. 3-digit addition in GPT-3 between 10^9 and 10^11 parameters);
 *                 Schaeffer et al. 2023: often an artefact of the metric — exact match
 *                 multiplies the per-token accuracies (p^k for k tokens), so a smoothly
 *                 rising per-token accuracy looks like a jump; a per-digit score rises
 *                 smoothly
 *
 * Here: GPTs of five sizes (C 16 .. 128, 2 .. 4 blocks, about 7 thousand to 800 thousand
 * parameters) learn D-digit addition (examples/common/addition.h; the format of
 * chain_of_thought's table, --format), each with the same budget: the same steps x batch, so
 * the same problems and the same training tokens; the learning rate shrinks with the width,
 * lr = 3e-3 sqrt(32 / C) for C >= 32 (larger models want smaller steps), warm-up and cosine.
 * For each size, on held-out problems: the validation loss (nats per answer token, true
 * tokens read), exact match and per-digit accuracy (greedy, the model writing everything
 * after '='). The loss is fitted with a power law by least squares on the logarithms,
 *   log10 L = log10 a - b log10 N     (N: non-embedding parameters, as in Kaplan et al.)
 * and a, b are printed.
 *
 * --task poems trains the same sizes on tang300 instead (gpt_train, windows of 32, up to 300
 * steps with early stopping): loss in nats per character, and as the task score the share of
 * 5/7-character clauses in what it writes (rhythm(), examples/common/poems.h).
 *
 * Measured (seed 42, 3-digit direct addition, 800 x 32 problems), exact / per-digit:
 * 1.4/49.4%, 0.6/51.5%, 7.2/72.8%, 46.8/85.3% from 6.6 thousand to 336 thousand parameters;
 * loss 1.095 -> 0.296, fit b = 0.333. With --full's 2000 steps: 0.8/53.0%, 1.4/54.9%,
 * 100/100%, 97.2/99.2%, 98.8/99.7% (C 128, 793 thousand): exact match jumps, and so does
 * per-digit accuracy, because each size either stays on the task's plateau or leaves it and
 * solves it within the budget; and a loss that falls to ~0 follows no power law. On the poems the loss
 * hardly moves (5.947, 5.881, 5.806, 5.833; b = 0.005): 22,500 characters of text are too
 * few for larger models to use (Kaplan's law assumes data enough; this is the data-limited
 * corner, near the bigram statistics' 5.835).
 *
 *   scaling [--quick | --full] [--task addition|poems] [--digits D]
 *           [--format direct|reversed|cot] [--steps S] [--batch B] [--sizes K] [--test N]
 *           [--seed N] [--out DIR]
 *   --quick   2 digits, the 2 smallest sizes, 150 steps (the smoke tests; a few seconds)
 *   default   3 digits, the 4 smallest sizes, 800 steps of 32 (a minute or two)
 *   --full    3 digits, all 5 sizes, 2000 steps of 32 (about 7 minutes of CPU)
 * Writes DIR/ch06_scaling_loss.svg (log10 validation loss against log10 N, with the fitted
 * line; the chart's axes are linear, so the logarithms are what is plotted) and
 * DIR/ch06_scaling_accuracy.svg (exact match and per-digit accuracy against log10 N).
 */
#include "../common/addition.h"
#include "../common/gpt_train.h"

typedef struct size_row {
    int dim, heads, layers;
} size_row;

static const size_row SIZES[] = {
    {16, 2, 2}, {32, 2, 2}, {64, 4, 2}, {96, 4, 3}, {128, 4, 4},
};
enum { NSIZES = NN_COUNTOF(SIZES) };

/* One size on the poems (examples/common/poems.h): gpt_train on tang300 (random windows of
 * T = 32, early stopping on the validation loss), the validation loss in nats per character,
 * and, as the task score, the 5/7 rhythm of what it writes: S samples of 63 characters at
 * temperature 0.8 from S validation characters, the share of complete clauses of 5 or 7
 * characters (rhythm(); real poems: 1). Returns 0 or -1. */
static int poem_size(const poems *po, nn_gpt_config cfg, int steps, float lr, const char *label,
                     uint64_t seed, double *val, double *share, size_t *params, double *seconds) {
    gpt_settings st = {.cfg = cfg, .B = 16, .steps = steps,
                       .eval_every = steps / 5 > 0 ? steps / 5 : 1, .patience = 3, .lr = lr, .label = label};
    st.cfg.vocab = po->vocab->size, st.cfg.context = 32;
    static gpt_run r;   /* static: its curves are large for the stack */
    double t0 = nn_seconds();
    if (gpt_train(&r, &st, po->train, po->val, seed) != 0) return -1;
    *seconds = nn_seconds() - t0;
    *val = r.val, *params = r.gpt->model->count;
    enum { S = 8, LEN = 63 };
    int out[LEN], nl = nn_vocab_id(po->vocab, '\n'), clauses = 0;
    long all = 0;
    double good = 0;
    nn_rng rng;
    nn_rng_seed(&rng, seed + 7);
    for (int k = 0; k < S; k++) {
        const int *prompt = po->val.ids + (size_t)k * (po->val.n / S);
        int made = gpt_write_text(r.gpt, prompt, 1, nl, LEN, (nn_sampling){.temperature = 0.8f},
                                  &rng, out);
        double sh = rhythm(po->vocab, out, made, &clauses);
        good += sh * clauses, all += clauses;
    }
    *share = all > 0 ? good / all : 0.0;
    nn_gpt_free(r.gpt);
    return 0;
}

/* Least squares of y = c0 + c1 x over n points; the slope and intercept. */
static void fit_line(const double *x, const double *y, int n, double *c0, double *c1) {
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) mx += x[i] / n, my += y[i] / n;
    for (int i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    *c1 = sxx > 0 ? sxy / sxx : 0.0;
    *c0 = my - *c1 * mx;
}

static int scale_poems(bool quick, bool full, const nn_option *opts, int nopt, int steps,
                       int nsizes, uint64_t seed, const char *out_dir);

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *format = "direct", *task = "addition";
    int D = 3, steps = 800, B = 32, nsizes = 4, tests = 500;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "2 digits, 2 tiny sizes, 150 steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "all 5 sizes, 2000 steps (the documented figures)"),
        NN_OPT_CHOICE("--task", &task, "addition|poems",
                      "what the models learn: D-digit addition, or the Tang poems"),
        NN_OPT_INT("--digits", &D, 1, ADD_MAX_DIGITS, "digits per operand"),
        NN_OPT_CHOICE("--format", &format, "direct|reversed|cot",
                      "how the problems are written (see chain_of_thought)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps, the same for every size "
                   "(poems: 300, at most)"),
        NN_OPT_INT("--batch", &B, 1, 1024, "problems per step"),
        NN_OPT_INT("--sizes", &nsizes, 2, NSIZES, "how many of the sizes, from the smallest"),
        NN_OPT_INT("--test", &tests, 1, 10000, "held-out problems to test on"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the charts"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "大模型 / 涌现: GPTs of several sizes learn D-digit addition with the same\n"
                     "budget; validation loss against parameters with a fitted power law, and\n"
                     "exact match beside per-digit accuracy (is the rise sharp?).",
                     opts, nopt);
    printf("chapter 6: scaling (大模型) and emergence (涌现) on %s\n",
           strcmp(task, "poems") ? "addition" : "the Tang poems");
    printf("seed %llu\n", (unsigned long long)seed);
    if (quick) {
        if (!nn_option_given(opts, nopt, "--digits")) D = 2;
        if (!nn_option_given(opts, nopt, "--steps")) steps = 150;
        if (!nn_option_given(opts, nopt, "--sizes")) nsizes = 2;
        if (!nn_option_given(opts, nopt, "--test")) tests = 100;
    } else if (full) {
        if (!nn_option_given(opts, nopt, "--steps")) steps = 2000;
        if (!nn_option_given(opts, nopt, "--sizes")) nsizes = NSIZES;
    }
    bool on_poems = !strcmp(task, "poems");
    if (on_poems) return scale_poems(quick, full, opts, nopt, steps, nsizes, seed, out_dir);
    add_format f = !strcmp(format, "cot") ? ADD_COT : !strcmp(format, "reversed") ? ADD_REVERSED
                                                                                 : ADD_DIRECT;
    long *ta = malloc(sizeof(long) * (size_t)tests), *tb = malloc(sizeof(long) * (size_t)tests);
    int n = add_test_set(D, tests, seed, ta, tb), L = add_length(D, f);
    char ex[ADD_MAX_LEN + 1];
    add_text(ex, 45 % add_pow10(D), 989 % add_pow10(D), D, f);
    printf("%d-digit addition, %s (%d tokens: %.*s), %d held-out problems\n", D,
           add_format_name(f), L, L - 1, ex, n);
    printf("budget for every size: %d steps x %d problems = %ld training tokens\n", steps, B,
           (long)steps * B * (L - 1));

    double logN[NSIZES], logL[NSIZES];
    float xs[NSIZES], ys[NSIZES], exact[NSIZES], digit[NSIZES];
    double total_s = 0.0;
    printf("\n%5s %5s %6s %9s %9s %7s %9s %7s %9s %8s\n", "C", "heads", "blocks", "params",
           "non-emb N", "lr", "val loss", "exact", "per-digit", "time s");
    for (int i = 0; i < nsizes; i++) {
        const size_row *z = &SIZES[i];
        float lr = 3e-3f * sqrtf(32.0f / (float)(z->dim > 32 ? z->dim : 32));
        char label[32];
        snprintf(label, sizeof label, "C%d", z->dim);
        add_settings st = {.cfg = {.dim = z->dim, .heads = z->heads, .layers = z->layers},
                           .D = D, .format = f, .steps = steps, .B = B, .lr = lr, .label = label};
        add_run r;
        if (add_train(&r, &st, seed) != 0) {
            fprintf(stderr, "cannot train: %s\n", nn_last_error());
            return 1;
        }
        total_s += r.seconds;
        add_score sc = add_evaluate(r.gpt, D, f, ta, tb, n);
        double val = add_val_loss(r.gpt, D, f, ta, tb, n);
        const nn_gpt_config *c = &r.gpt->cfg;
        size_t params = r.gpt->model->count;
        /* Kaplan et al. count without the token and position tables */
        double N = (double)params - (double)(c->vocab + c->context) * c->dim;
        logN[i] = log10(N), logL[i] = log10(val);
        xs[i] = (float)logN[i], ys[i] = (float)logL[i];
        exact[i] = (float)sc.exact / (float)sc.problems;
        digit[i] = (float)sc.digits_ok / (float)sc.digits;
        printf("%5d %5d %6d %9zu %9.0f %7.4f %9.4f %6.1f%% %8.1f%% %8.1f\n", z->dim, z->heads,
               z->layers, params, N, lr, val, 100.0 * exact[i], 100.0 * digit[i], r.seconds);
        nn_gpt_free(r.gpt);
    }
    double c0, c1;
    fit_line(logN, logL, nsizes, &c0, &c1);
    double a = pow(10.0, c0), b = -c1;
    printf("\npower law fitted to the validation loss: L = a N^-b with a = %.3g, b = %.3f\n"
           "  (Kaplan et al. 2020, language models, 10^3 .. 10^9 parameters: b = 0.076)\n", a, b);
    printf("exact match vs per-digit accuracy, smallest to largest:");
    for (int i = 0; i < nsizes; i++) printf(" %.2f/%.2f", exact[i], digit[i]);
    printf("\n  (if each of the D + 1 = %d digits were right independently with the per-digit\n"
           "   accuracy p, exact match would be p^%d:", D + 1, D + 1);
    for (int i = 0; i < nsizes; i++) printf(" %.2f", pow(digit[i], D + 1));
    printf(")\n");

    float fx[2] = {xs[0], xs[nsizes - 1]};
    float fy[2] = {(float)(c0 + c1 * fx[0]), (float)(c0 + c1 * fx[1])};
    char fit_label[64];
    snprintf(fit_label, sizeof fit_label, "fit: L = %.3g N^-%.3f", a, b);
    nn_series loss_series[] = {
        {.label = "validation loss", .x = xs, .y = ys, .n = nsizes, .style = NN_PLOT_POINTS},
        {.label = fit_label, .x = fx, .y = fy, .n = 2, .style = NN_PLOT_LINE},
    };
    nn_plot_svg_in(out_dir, "ch06_scaling_loss.svg", "validation loss vs parameters (log-log)",
                   "log10 N (non-embedding parameters)", "log10 loss (nats per answer token)",
                   loss_series, 2);
    nn_series acc_series[] = {
        {.label = "exact match", .x = xs, .y = exact, .n = nsizes, .style = NN_PLOT_LINE},
        {.label = "per-digit accuracy", .x = xs, .y = digit, .n = nsizes, .style = NN_PLOT_LINE},
    };
    nn_plot_svg_in(out_dir, "ch06_scaling_accuracy.svg", "addition on held-out problems vs size",
                   "log10 N (non-embedding parameters)", "accuracy", acc_series, 2);

    printf("result: sizes=%d digits=%d format=%s a=%.3g b=%.3f exact_small=%.3f exact_large=%.3f "
           "digit_small=%.3f digit_large=%.3f train_seconds=%.1f\n",
           nsizes, D, format, a, b, exact[0], exact[nsizes - 1], digit[0], digit[nsizes - 1],
           total_s);
    free(ta), free(tb);
    return 0;
}

/* --task poems: the same sizes on tang300; the loss is nats per character, the task score the
 * 5/7 rhythm share. Steps: 300 by default (--quick 20 on 2 sizes, --full 600), early stopping
 * keeping each model's best validation loss (the corpus is small: large models overfit). */
static int scale_poems(bool quick, bool full, const nn_option *opts, int nopt, int steps,
                       int nsizes, uint64_t seed, const char *out_dir) {
    if (!nn_option_given(opts, nopt, "--steps")) steps = quick ? 20 : full ? 600 : 300;
    poems po;
    if (poems_open(&po, NULL, false, quick ? 150 : 500, seed) != 0) return 1;
    poems_describe(&po, false);
    printf("budget for every size: up to %d steps x 16 windows of 32 characters "
           "(early stopping on the validation loss)\n", steps);
    double logN[NSIZES], logL[NSIZES];
    float xs[NSIZES], ys[NSIZES], share[NSIZES];
    printf("\n%5s %5s %6s %9s %9s %7s %9s %9s %8s\n", "C", "heads", "blocks", "params",
           "non-emb N", "lr", "val loss", "5/7 share", "time s");
    for (int i = 0; i < nsizes; i++) {
        const size_row *z = &SIZES[i];
        float lr = 3e-3f * sqrtf(32.0f / (float)(z->dim > 32 ? z->dim : 32));
        char label[32];
        snprintf(label, sizeof label, "C%d", z->dim);
        nn_gpt_config cfg = {.dim = z->dim, .heads = z->heads, .layers = z->layers};
        double val, sh, sec;
        size_t params;
        if (poem_size(&po, cfg, steps, lr, label, seed, &val, &sh, &params, &sec) != 0) {
            fprintf(stderr, "cannot train: %s\n", nn_last_error());
            poems_close(&po);
            return 1;
        }
        double N = (double)params - (double)(po.vocab->size + 32) * z->dim;
        logN[i] = log10(N), logL[i] = log10(val);
        xs[i] = (float)logN[i], ys[i] = (float)logL[i], share[i] = (float)sh;
        printf("%5d %5d %6d %9zu %9.0f %7.4f %9.4f %8.1f%% %8.1f\n", z->dim, z->heads, z->layers,
               params, N, lr, val, 100.0 * sh, sec);
    }
    double c0, c1;
    fit_line(logN, logL, nsizes, &c0, &c1);
    double a = pow(10.0, c0), b = -c1;
    printf("\npower law fitted to the validation loss: L = a N^-b with a = %.3g, b = %.3f\n"
           "  (Kaplan et al. 2020, language models, 10^3 .. 10^9 parameters: b = 0.076)\n", a, b);
    float fx[2] = {xs[0], xs[nsizes - 1]};
    float fy[2] = {(float)(c0 + c1 * fx[0]), (float)(c0 + c1 * fx[1])};
    char fit_label[64];
    snprintf(fit_label, sizeof fit_label, "fit: L = %.3g N^-%.3f", a, b);
    nn_series loss_series[] = {
        {.label = "validation loss", .x = xs, .y = ys, .n = nsizes, .style = NN_PLOT_POINTS},
        {.label = fit_label, .x = fx, .y = fy, .n = 2, .style = NN_PLOT_LINE},
    };
    nn_plot_svg_in(out_dir, "ch06_scaling_poems_loss.svg",
                   "Tang poems: validation loss vs parameters (log-log)",
                   "log10 N (non-embedding parameters)", "log10 loss (nats per character)",
                   loss_series, 2);
    nn_series share_series[] = {
        {.label = "5/7 share of written clauses", .x = xs, .y = share, .n = nsizes,
         .style = NN_PLOT_LINE},
    };
    nn_plot_svg_in(out_dir, "ch06_scaling_poems_rhythm.svg", "Tang poems: rhythm vs size",
                   "log10 N (non-embedding parameters)", "5/7 share", share_series, 1);
    printf("result: task=poems sizes=%d a=%.3g b=%.3f loss_small=%.3f loss_large=%.3f "
           "rhythm_small=%.3f rhythm_large=%.3f\n", nsizes, a, b, pow(10.0, logL[0]),
           pow(10.0, logL[nsizes - 1]), share[0], share[nsizes - 1]);
    poems_close(&po);
    return 0;
}
