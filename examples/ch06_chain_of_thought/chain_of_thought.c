/* examples/ch06_chain_of_thought/chain_of_thought.c — 思维链 (chain of thought): a model that
 * fails when it must answer at once can succeed when it writes its steps first.
 *
 * The tutorial: 让模型一步一步地思考,先写出中间步骤再给出答案,叫做思维链 — let the model think
 * step by step, writing the intermediate steps before the answer. A GPT computes a fixed
 * amount per token it writes (N blocks, whatever the question); every token of a scratchpad is
 * more computation, and what it wrote it can read again (attention), so a hard step becomes
 * several easy ones.
 *
 * The task: D-digit addition (examples/common/addition.h), D = 3 by default. Three ways to
 * write the same problem, 45 + 989:
 *   direct     045+989=1034\n                               the answer at once, as people
 *              write it: its first digit needs every carry, and no token was spent on them
 *   reversed   045+989=4301\n                               the answer from the ones digit
 *              up: each digit needs its own two digits and one carry (from the digit just
 *              written) — the order already is a little chain of thought
 *   chain of thought (思维链)
 *              045+989=5+9+0=14,4+8+1=13,0+9+1=10|1034\n    place by place from the right:
 *              the two digits, the carry in, the two-digit sum; then the answer
 * Operands and answers are padded with zeros (each format has one length; see addition.h).
 * The main contrast is direct vs chain of thought, both giving the answer in the usual
 * order; reversed shows how much of the help is just the order of the digits.
 *
 * The same GPT (C 32, 2 heads, 1 block by default: 14,496 parameters) is trained on each
 * format with the same budget: the same steps x batch, i.e. the same number of problems,
 * freshly drawn from nine tenths of all pairs. The loss counts only the tokens after '='
 * (the operands are random). A chain of thought costs more tokens per problem — in training
 * and in every answer — so a fourth run gives the direct format the chain of thought's
 * number of training tokens (more steps), to check that the win is not just more compute.
 * Tested by greedy decoding on held-out problems (a fixed tenth of all pairs, never trained
 * on): the model writes everything after '=' itself, its scratchpad included.
 *
 * Measured (seed 42, 3 digits, 1000 x 32 problems): exact match direct 1.0%, reversed 0.0%,
 * chain of thought 100.0%, direct with the chain's tokens (3250 steps) 7.0%. The size was
 * found by trying, same budget: the chain of thought reaches 63% at C 16 x 1 block (4,176
 * parameters), 89% at C 16 x 2, 97% at C 24 x 2, 100% at C 32 x 1 (the default), while
 * direct stays at 0.6-1.2% for all of them. (The direct formats are not impossible, only far
 * harder: they sit on a long plateau; ch06_scaling shows C 64 x 2 blocks learning the direct
 * one in 2000 steps, and C 16 x 2 learned the reversed one in 3000.)
 *
 *   exact      the share of answers entirely right (the metric of "it can add")
 *   per-digit  the share of answer digits right at their place
 *
 *   chain_of_thought [--quick | --full] [--digits D] [--dim C] [--heads H] [--layers N]
 *                    [--steps S] [--batch B] [--lr X] [--test N] [--seed N] [--out DIR]
 *   --quick   2 digits, C 16, 1 block, 120 steps (the smoke tests; a few seconds)
 *   default   3 digits, C 32, 1 block, 1000 steps of 32 (about a minute of CPU)
 *   --full    4 digits, the same model, 2000 steps of 32 (a few minutes)
 * Writes DIR/ch06_chain_of_thought.svg: exact match on held-out problems during training,
 * against the training tokens read.
 */
#include "../common/addition.h"

enum { RUNS = 4 };

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out";
    int D = 3, dim = 32, heads = 2, layers = 1, steps = 1000, B = 32, tests = 500;
    float lr = 3e-3f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "2 digits, a tiny model, 120 steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "4 digits, 2000 steps (the documented figures)"),
        NN_OPT_INT("--digits", &D, 1, ADD_MAX_DIGITS, "digits per operand"),
        NN_OPT_INT("--dim", &dim, 4, 512, "C, the width of the token vectors"),
        NN_OPT_INT("--heads", &heads, 1, 16, "attention heads (dividing C)"),
        NN_OPT_INT("--layers", &layers, 1, 12, "Transformer blocks"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps per format"),
        NN_OPT_INT("--batch", &B, 1, 1024, "problems per step"),
        NN_OPT_FLOAT("--lr", &lr, 1e-5, 1.0, "peak learning rate (AdamW, cosine schedule)"),
        NN_OPT_INT("--test", &tests, 1, 10000, "held-out problems to test on"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "思维链 (chain of thought): the same GPT, the same training budget, learns\n"
                     "D-digit addition with the answer at once, reversed, or after writing the\n"
                     "digit sums and carries from the right; exact match on held-out problems.",
                     opts, nopt);
    if (quick || full) {   /* the level's sizes, unless given */
        int lv[][5] = {{2, 16, 2, 1, 120}, {4, 32, 2, 1, 2000}};
        int *p = lv[quick ? 0 : 1];
        if (!nn_option_given(opts, nopt, "--digits")) D = p[0];
        if (!nn_option_given(opts, nopt, "--dim")) dim = p[1];
        if (!nn_option_given(opts, nopt, "--heads")) heads = p[2];
        if (!nn_option_given(opts, nopt, "--layers")) layers = p[3];
        if (!nn_option_given(opts, nopt, "--steps")) steps = p[4];
        if (quick && !nn_option_given(opts, nopt, "--test")) tests = 64;
    }
    printf("chapter 6: chain of thought (思维链) on %d-digit addition\n", D);
    printf("seed %llu\n", (unsigned long long)seed);
    nn_gpt_config cfg = {.dim = dim, .heads = heads, .layers = layers, .vocab = ADD_VOCAB,
                         .context = add_length(D, ADD_COT) - 1};
    char why[160];
    if (nn_gpt_config_check(&cfg, why, sizeof why) != 0) {
        fprintf(stderr, "bad model: %s\n", why);
        return 2;
    }

    long *ta = malloc(sizeof(long) * (size_t)tests), *tb = malloc(sizeof(long) * (size_t)tests);
    int n = add_test_set(D, tests, seed, ta, tb);
    int curve_n = n < 128 ? n : 128;   /* the curve: a smaller test, often */
    char ex[ADD_MAX_LEN + 1];
    printf("%d-digit addition, %d held-out problems (a tenth of all pairs is never trained on)\n",
           D, n);
    printf("model: C %d, %d heads, %d block%s; %d problems per step\n", dim, heads, layers,
           layers > 1 ? "s" : "", B);
    for (int f = ADD_DIRECT; f <= ADD_COT; f++) {
        add_text(ex, 45 % add_pow10(D), 989 % add_pow10(D), D, (add_format)f);
        printf("  %-17s %2d tokens  %s", add_format_name((add_format)f), add_length(D, f), ex);
    }

    /* the runs: each format with the same steps x batch; then direct with as many training
     * tokens as the chain of thought read */
    int Ld = add_length(D, ADD_DIRECT), Lc = add_length(D, ADD_COT);
    struct {
        add_format f;
        int steps;
        const char *name, *key;
        add_run r;
        add_score sc;
        double val;
    } runs[RUNS] = {
        {.f = ADD_DIRECT, .steps = steps, .name = "direct", .key = "direct"},
        {.f = ADD_REVERSED, .steps = steps, .name = "reversed", .key = "reversed"},
        {.f = ADD_COT, .steps = steps, .name = "chain of thought", .key = "cot"},
        {.f = ADD_DIRECT, .steps = (int)lround((double)steps * (Lc - 1) / (Ld - 1)),
         .name = "direct, CoT's tokens", .key = "direct_tokens"},
    };
    for (int i = 0; i < RUNS; i++) {
        add_settings st = {.cfg = cfg, .D = D, .format = runs[i].f, .steps = runs[i].steps, .B = B,
                           .lr = lr, .label = runs[i].key, .curve_a = ta, .curve_b = tb,
                           .curve_n = curve_n};
        st.eval_every = st.steps / (quick ? 5 : 30) > 0 ? st.steps / (quick ? 5 : 30) : 1;
        if (add_train(&runs[i].r, &st, seed) != 0) {
            fprintf(stderr, "cannot train: %s\n", nn_last_error());
            return 1;
        }
        runs[i].sc = add_evaluate(runs[i].r.gpt, D, runs[i].f, ta, tb, n);
        runs[i].val = add_val_loss(runs[i].r.gpt, D, runs[i].f, ta, tb, n);
    }

    printf("\n%zu parameters each; budget: %d x %d problems (the last row: %d x %d)\n",
           runs[0].r.gpt->model->count, steps, B, runs[3].steps, B);
    printf("%-22s %7s %9s %7s %10s %7s %9s %10s\n", "format", "tokens", "train tok", "time s",
           "val loss", "exact", "per-digit", "well-formed");
    for (int i = 0; i < RUNS; i++) {
        add_score *s = &runs[i].sc;
        printf("%-22s %7d %9ld %7.1f %10.4f %6.1f%% %8.1f%% %9.1f%%\n", runs[i].name,
               add_length(D, runs[i].f), runs[i].r.tokens, runs[i].r.seconds, runs[i].val,
               100.0 * s->exact / s->problems, 100.0 * s->digits_ok / s->digits,
               100.0 * s->well_formed / s->problems);
    }
    printf("(tokens: per problem, the line end included; val loss: nats per token after '=' on\n"
           " the held-out problems, read with the true tokens; exact and per-digit: written by\n"
           " the model itself, greedy)\n");
    printf("exact match on %d held-out problems during training (step: share):\n", curve_n);
    for (int i = 0; i < RUNS; i++) {
        printf("  %-22s", runs[i].name);
        int np = runs[i].r.points, every = np > 10 ? np / 10 : 1;
        for (int k = every - 1; k < np; k += every)
            printf(" %d:%.2f", (int)runs[i].r.step[k], runs[i].r.exact[k]);
        printf("\n");
    }
    for (int i = 0; i < RUNS; i++) {
        if (i == 3) continue;
        for (int k = 0; k < 2; k++)
            if (runs[i].sc.example[k][0])
                printf("  %-17s %-6s %s\n", runs[i].name, k ? "wrong" : "right",
                       runs[i].sc.example[k]);
    }

    /* the curves over training tokens (thousands), so that the runs of one budget in
     * problems but not in tokens can be read on one axis */
    nn_series series[RUNS];
    float ktok[RUNS][ADD_MAX_POINTS];
    for (int i = 0; i < RUNS; i++) {
        int T = add_length(D, runs[i].f) - 1;
        for (int k = 0; k < runs[i].r.points; k++) ktok[i][k] = runs[i].r.step[k] * B * T / 1000.0f;
        series[i] = (nn_series){.label = runs[i].name, .x = ktok[i], .y = runs[i].r.exact,
                                .n = runs[i].r.points, .style = NN_PLOT_LINE};
    }
    char title[160];
    snprintf(title, sizeof title, "%d-digit addition: exact match on %d held-out problems", D,
             curve_n);
    nn_plot_svg_in(out_dir, "ch06_chain_of_thought.svg", title, "training tokens (thousands)",
                   "exact match", series, RUNS);

    double e[RUNS];
    for (int i = 0; i < RUNS; i++) e[i] = (double)runs[i].sc.exact / runs[i].sc.problems;
    printf("result: digits=%d params=%zu direct_exact=%.3f reversed_exact=%.3f cot_exact=%.3f "
           "direct_same_tokens_exact=%.3f direct_digit=%.3f cot_digit=%.3f tokens_direct=%d "
           "tokens_cot=%d seconds_direct=%.1f seconds_cot=%.1f\n",
           D, runs[0].r.gpt->model->count, e[0], e[1], e[2], e[3],
           (double)runs[0].sc.digits_ok / runs[0].sc.digits,
           (double)runs[2].sc.digits_ok / runs[2].sc.digits, Ld, Lc, runs[0].r.seconds,
           runs[2].r.seconds);
    for (int i = 0; i < RUNS; i++) nn_gpt_free(runs[i].r.gpt);
    free(ta), free(tb);
    return 0;
}
