/* examples/ch06_rlhf/rlhf.c — RLHF (基于人类反馈的强化学习): tune the poem model toward what a
 * judge prefers, by showing it pairs of its own lines ranked by the judge.
 *
 * The tutorial: RLHF — people rate the model's answers, and the ratings steer further
 * training, so that the model answers the way people like. Here a rule plays the human: it
 * prefers a first line that is a proper couplet, two clauses of five (or of seven)
 * characters, "，" between them and "。" at the end (床前明月光，疑是地上霜。), and before that a
 * line whose first clause has 5 or 7 characters (it "passes"); then more such clauses. The
 * steps:
 *   1. the reference model: the chapter 6 GPT trained on the poems (ch06_quick_gpt.h)
 *   2. pairs: for each prompt (a line end and the first character of a training line) the
 *      reference writes two lines at temperature 1; the judge ranks them (ties dropped)
 *   3. DPO (nn/net/preference.h): the policy starts as a copy of the reference and is trained
 *      on the pairs with L = -log sigmoid(beta * [(log pi(y_w) - log ref(y_w)) -
 *      (log pi(y_l) - log ref(y_l))]), the reference frozen. Why DPO and not a reward model +
 *      PPO: the same objective (reward, held near the reference by a KL term) with one loss
 *      and no sampling inside the training loop — a few dozen lines instead of a second model
 *      and an RL loop, and stable at this size.
 *   4. before and after, on prompts from the validation text: the share of lines that pass,
 *      the share of couplets, and KL(policy || reference) per token (exact over the
 *      vocabulary, at each position of the policy's own lines).
 *
 *   rlhf [--quick | --full] [--model DIR] [--pairs N] [--steps N] [--beta X] [--lr X]
 *        [--seed N] [--out DIR]
 *   default  the chapter 6 GPT (~15 s to train), 512 prompts, 60 DPO steps of 16 pairs, lr 1e-3
 *   --quick  a tiny GPT, 32 prompts, 10 steps (the smoke tests)
 *   --full   the --full GPT (T 64; minutes), 2048 prompts, 300 steps, lr 1e-4
 * Writes DIR/ch06_rlhf.svg: the DPO loss and the accepted share during training.
 */
#include "../common/ch06_quick_gpt.h"

#define MAX_LINE 16   /* tokens written per sample: a 7 + 7 couplet and its two marks */

/* The tokens written per sample: MAX_LINE, or fewer when the context is short (--quick's
 * model reads 16 tokens: a line of 14 still holds a 5 + 5 couplet). Set once in main. */
static int LINE = MAX_LINE;

/* ---- the judge ------------------------------------------------------------------------- */

/* The first line of c0 + w[0 .. n): its characters up to the first line end. */
static int first_line(const nn_vocab *v, int c0, const int *w, int n, uint32_t *cps, int max) {
    int len = 0;
    cps[len++] = v->chars[c0];
    for (int i = 0; i < n && len < max; i++) {
        if (v->chars[w[i]] == '\n' || w[i] == NN_VOCAB_UNK) break;
        cps[len++] = v->chars[w[i]];
    }
    return len;
}

/* 1 when the line is k characters, "，", k characters, "。" with k = 5 or 7. */
static bool is_couplet(const uint32_t *cps, int len) {
    int k = (len - 2) / 2;
    if ((k != 5 && k != 7) || len != 2 * k + 2) return false;
    for (int i = 0; i < len; i++) {
        bool mark = i == k || i == len - 1;
        if (mark != is_break(cps[i])) return false;
    }
    return cps[k] == 0xff0c /* ， */ && cps[len - 1] == 0x3002 /* 。 */;
}

/* The judge: a line "passes" when its first clause (up to the first mark) has 5 or 7
 * characters, the length of a Tang line. Its score ranks two lines: 2 more for a whole
 * couplet, 1 more for passing, plus a quarter of the share of 5- or 7-character clauses (so
 * that two failing lines can still differ). */
static double judge(const nn_vocab *v, int c0, const int *w, int n, bool *passes,
                    bool *couplet) {
    uint32_t cps[MAX_LINE + 2];
    int len = first_line(v, c0, w, n, cps, LINE + 1);
    *couplet = is_couplet(cps, len);
    int clauses = 0, good = 0, run = 0, first = -1;
    for (int i = 0; i < len; i++) {
        if (is_break(cps[i])) {
            if (first < 0) first = run;
            if (run > 0) clauses++, good += run == 5 || run == 7;
            run = 0;
        } else {
            run++;
        }
    }
    *passes = first == 5 || first == 7;
    return 2.0 * *couplet + 1.0 * *passes + 0.25 * (clauses ? (double)good / clauses : 0.0);
}

/* ---- sampling and measuring -------------------------------------------------------------- */

/* Prompts: a line end and the first character of `count` lines of span (wrapping round). */
static int line_starts(nn_token_span span, int nl, int *c0, int count) {
    int found = 0;
    for (int i = 1; i + LINE < span.n && found < count; i++)
        if (span.ids[i - 1] == nl && span.ids[i] != nl) c0[found++] = span.ids[i];
    for (int i = found; found > 0 && i < count; i++) c0[i] = c0[i % found];
    return found;
}

/* One sample: [nl, c0] then LINE tokens at temperature 1, into seq[0 .. LINE + 2). */
static void write_line(nn_gpt *g, int nl, int c0, nn_rng *rng, int *seq) {
    seq[0] = nl, seq[1] = c0;
    nn_gpt_generate(g, seq, 2, LINE, (nn_sampling){.temperature = 1.0f}, rng, -1, seq + 2);
}

typedef struct measure {
    double passes, couplets, kl;   /* shares of the lines; KL per token */
} measure;

/* The policy writes one line per prompt; the judge scores them, and the exact KL between
 * the policy's and the reference's next-token distributions is averaged over the written
 * positions. Gradients off. */
static measure evaluate(nn_gpt *pol, nn_gpt *ref, const nn_vocab *v, int nl, const int *c0,
                        int count, uint64_t seed) {
    const int L = LINE + 2;
    measure m = {0};
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int V = pol->cfg.vocab, *seq = malloc(sizeof(int) * (size_t)count * L), pass = 0, two = 0;
    double kl = 0;
    long kl_n = 0;
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    for (int s = 0; s < count; s++) {
        int *q = seq + (size_t)s * L;
        write_line(pol, nl, c0[s], &rng, q);
        bool passes, couplet;
        judge(v, c0[s], q + 2, LINE, &passes, &couplet);
        pass += passes, two += couplet;
    }
    for (int s = 0; s < count; s += 16) {
        int b = count - s < 16 ? count - s : 16;
        nn_tensor *lp = nn_log_softmax(nn_gpt_forward(pol, seq + (size_t)s * L, b, L - 1));
        nn_tensor *lr = nn_log_softmax(nn_gpt_forward(ref, seq + (size_t)s * L, b, L - 1));
        for (int r = 0; r < b; r++)
            for (int t = 1; t < L - 1; t++) {   /* the positions that predict written tokens */
                const float *a = lp->data + ((size_t)r * (L - 1) + t) * V;
                const float *c = lr->data + ((size_t)r * (L - 1) + t) * V;
                double k = 0;
                for (int i = 0; i < V; i++) k += exp(a[i]) * (a[i] - c[i]);
                kl += k, kl_n++;
            }
        nn_graph_clear();
    }
    nn_set_grad_enabled(grad), nn_set_training(training);
    free(seq);
    m.passes = (double)pass / count, m.couplets = (double)two / count, m.kl = kl / (double)kl_n;
    return m;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *model_dir = NULL;
    int n_prompts = 512, steps = 60;
    float beta = 0.1f, lr = 1e-3f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT, 32 prompts, 10 steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "the --full GPT (T 64; minutes), 2048 prompts, 300 steps"),
        NN_OPT_STR("--model", &model_dir, "DIR", "a saved GPT (tiny_gpt's out/gpt) instead of "
                   "training one"),
        NN_OPT_INT("--pairs", &n_prompts, 4, 100000, "prompts to sample pairs from (ties are "
                   "dropped)"),
        NN_OPT_INT("--steps", &steps, 1, 100000, "DPO steps of 16 pairs"),
        NN_OPT_FLOAT("--beta", &beta, 1e-3, 100, "DPO's beta: how far from the reference"),
        NN_OPT_FLOAT("--lr", &lr, 1e-7, 1, "Adam's learning rate (1e-3; --full 1e-4)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "RLHF with DPO: a rule plays the human and prefers proper couplets; the poem\n"
                     "GPT writes pairs of lines, the rule ranks them, DPO tunes a copy toward the\n"
                     "preferred ones. Accepted share and KL from the reference, before and after.",
                     opts, nopt);
    ch06_level level = ch06_level_of(quick, full);
    if (!nn_option_given(opts, nopt, "--pairs"))
        n_prompts = level == CH06_QUICK ? 32 : level == CH06_FULL ? 2048 : 512;
    if (!nn_option_given(opts, nopt, "--steps"))
        steps = level == CH06_QUICK ? 10 : level == CH06_FULL ? 300 : 60;
    /* five times the steps over a stronger model: a tenth of the step size (3e-3 on the
     * default model already runs away from the reference, see the docs) */
    if (!nn_option_given(opts, nopt, "--lr") && level == CH06_FULL) lr = 1e-4f;
    printf("chapter 6: RLHF, a rule as the human, DPO as the method (基于人类反馈的强化学习)\n");
    printf("seed %llu\n", (unsigned long long)seed);

    poems po;
    ch06_gpt m;
    if (ch06_open(&po, &m, false, level, model_dir, seed) != 0) return 1;
    nn_gpt *ref = m.gpt, *pol = gpt_copy(ref);
    if (ref->cfg.context - 2 < LINE) LINE = ref->cfg.context - 2;
    if (LINE < 12) {
        fprintf(stderr, "rlhf: the model's context (%d) is too short for a prompt and a line "
                "of 12\n", ref->cfg.context);
        return 1;
    }
    const nn_vocab *v = po.vocab;
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : 0;
    nn_model_freeze(ref->model, "");   /* the reference never changes */

    /* ---- 2. pairs from the reference, ranked by the judge ---- */
    const int L = LINE + 2;
    int *c0 = malloc(sizeof(int) * (size_t)n_prompts);
    int *chosen = malloc(sizeof(int) * (size_t)n_prompts * L);
    int *rejected = malloc(sizeof(int) * (size_t)n_prompts * L);
    if (line_starts(po.train, nl, c0, n_prompts) == 0) {
        fprintf(stderr, "rlhf: no line to start from in the training text\n");
        return 1;
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed + 5);
    int pairs = 0, both_pass = 0;
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    for (int s = 0; s < n_prompts; s++) {
        int a[MAX_LINE + 2], b[MAX_LINE + 2];
        bool pa, pb, ca, cb;
        write_line(ref, nl, c0[s], &rng, a);
        write_line(ref, nl, c0[s], &rng, b);
        double ja = judge(v, c0[s], a + 2, LINE, &pa, &ca);
        double jb = judge(v, c0[s], b + 2, LINE, &pb, &cb);
        both_pass += pa && pb;
        if (ja == jb) continue;   /* the judge has no preference */
        memcpy(chosen + (size_t)pairs * L, ja > jb ? a : b, sizeof(int) * (size_t)L);
        memcpy(rejected + (size_t)pairs * L, ja > jb ? b : a, sizeof(int) * (size_t)L);
        pairs++;
    }
    nn_set_grad_enabled(grad), nn_set_training(training);
    printf("\npairs: %d prompts, two lines each from the reference at T 1.0; %d ranked pairs "
           "(%d ties dropped,\n%d of them two passing lines)\n", n_prompts, pairs, n_prompts - pairs,
           both_pass);
    if (pairs == 0) {
        fprintf(stderr, "rlhf: the judge ranked no pair; try more --pairs\n");
        return 1;
    }
    printf("  a chosen line:   ");
    print_text(v, chosen + 1, 1, chosen + 2, LINE);
    printf("  its rejected one:");
    print_text(v, rejected + 1, 1, rejected + 2, LINE);

    /* held-out prompts for before / after */
    int n_eval = level == CH06_QUICK ? 32 : 256, *c0_val = malloc(sizeof(int) * (size_t)n_eval);
    if (line_starts(po.val, nl, c0_val, n_eval) == 0) memcpy(c0_val, c0, sizeof(int) * 1);
    measure before = evaluate(pol, ref, v, nl, c0_val, n_eval, seed + 9);
    printf("\nbefore: %.1f%% of %d lines pass (first clause of 5 or 7), %.1f%% are couplets\n",
           100 * before.passes, n_eval, 100 * before.couplets);

    /* ---- 3. DPO ---- */
    enum { PB = 16 };   /* pairs per step */
    int ids[2 * PB * (MAX_LINE + 2)], targets[2 * PB * (MAX_LINE + 1)];
    float weights[2 * PB * (MAX_LINE + 1)];
    nn_optim *opt = nn_adam_new(pol->model, lr, 0.0f);
    float *loss_curve = malloc(sizeof(float) * (size_t)steps), *xs = malloc(sizeof(float) * (size_t)steps);
    double t0 = nn_seconds(), margin = 0;
    int *order = malloc(sizeof(int) * (size_t)pairs);
    for (int i = 0; i < pairs; i++) order[i] = i;
    int pos = pairs;
    printf("\nDPO: beta %g, Adam lr %g, %d steps of %d pairs (the policy's dropout off)\n", beta,
           lr, steps, PB);
    nn_set_training(false);
    for (int step = 0; step < steps; step++) {
        int b = pairs < PB ? pairs : PB;
        for (int k = 0; k < b; k++) {   /* chosen rows 0 .. b-1, rejected rows b .. 2b-1 */
            if (pos == pairs) {         /* a new epoch over the pairs, in a new order */
                for (int i = pairs - 1; i > 0; i--) {
                    int j = nn_rng_int(&rng, i + 1), t = order[i];
                    order[i] = order[j], order[j] = t;
                }
                pos = 0;
            }
            int p = order[pos++];
            memcpy(ids + (size_t)k * L, chosen + (size_t)p * L, sizeof(int) * L);
            memcpy(ids + (size_t)(b + k) * L, rejected + (size_t)p * L, sizeof(int) * L);
        }
        /* position t of a row predicts token t + 1; only the written tokens count */
        for (int r = 0; r < 2 * b; r++)
            for (int t = 0; t < L - 1; t++) {
                targets[r * (L - 1) + t] = ids[r * L + t + 1];
                weights[r * (L - 1) + t] = t >= 1 ? 1.0f : 0.0f;
            }
        nn_set_grad_enabled(false);
        nn_tensor *lr_ref = nn_sequence_log_prob(nn_gpt_forward(ref, ids, 2 * b, L - 1), targets,
                                                 weights);
        nn_set_grad_enabled(true);
        nn_tensor *lp = nn_sequence_log_prob(nn_gpt_forward(pol, ids, 2 * b, L - 1), targets,
                                             weights);
        nn_tensor *loss = nn_dpo_loss(nn_rows(lp, 0, b), nn_rows(lp, b, b), nn_rows(lr_ref, 0, b),
                                      nn_rows(lr_ref, b, b), beta);
        loss_curve[step] = nn_item(loss), xs[step] = (float)(step + 1);
        margin = 0;
        for (int k = 0; k < b; k++)
            margin += ((lp->data[k] - lr_ref->data[k]) - (lp->data[b + k] - lr_ref->data[b + k])) / b;
        nn_model_zero_grad(pol->model);
        nn_backward(loss);
        nn_clip_grad_norm(pol->model, GPT_CLIP);
        nn_optim_step(opt);
        nn_graph_clear();
        if ((step + 1) % (steps / 5 > 0 ? steps / 5 : 1) == 0 || step + 1 == steps)
            printf("  step %4d  loss %.4f  margin log(pi/ref)(chosen) - (rejected) %.3f\n",
                   step + 1, loss_curve[step], margin);
    }
    nn_set_training(training);
    double dpo_s = nn_seconds() - t0;
    nn_optim_free(opt);

    /* ---- 4. after ---- */
    measure after = evaluate(pol, ref, v, nl, c0_val, n_eval, seed + 9);
    printf("\n%-8s %10s %10s %14s\n", "", "pass", "couplets", "KL nats/token");
    printf("%-8s %9.1f%% %9.1f%% %14.4f\n", "before", 100 * before.passes, 100 * before.couplets,
           before.kl);
    printf("%-8s %9.1f%% %9.1f%% %14.4f\n", "after", 100 * after.passes, 100 * after.couplets,
           after.kl);
    printf("(%d held-out prompts, one line each at T 1.0; DPO %.1f s, %.0f ms/step)\n", n_eval,
           dpo_s, 1000 * dpo_s / steps);
    printf("\npassing lines %.1f%% -> %.1f%% (the judge's preference %s), at a KL of %.4f nats "
           "per token\nfrom the reference (beta holds the policy near it: the price of the "
           "change)\n", 100 * before.passes, 100 * after.passes,
           after.passes > before.passes ? "moved the model" : "did not move the model here",
           after.kl);
    printf("  after, the same prompt as above:");
    {
        int q[MAX_LINE + 2];
        nn_rng r2;
        nn_rng_seed(&r2, seed + 11);
        bool g2 = nn_set_grad_enabled(false), t2 = nn_set_training(false);
        write_line(pol, nl, chosen[1], &r2, q);
        nn_set_grad_enabled(g2), nn_set_training(t2);
        print_text(v, q + 1, 1, q + 2, LINE);
    }

    nn_series ser[] = {{"DPO loss", xs, loss_curve, steps, NN_PLOT_LINE}};
    int failed = nn_plot_svg_in(out_dir, "ch06_rlhf.svg", "DPO on the judge's pairs", "step",
                                "loss (ln 2 = no preference learned)", ser, 1) != 0;
    printf("result: params=%zu pairs=%d steps=%d beta=%g lr=%g pass_before=%.3f pass_after=%.3f "
           "couplets_before=%.3f couplets_after=%.3f kl_after=%.4f final_loss=%.4f "
           "ms_per_step=%.0f\n", pol->model->count, pairs, steps, beta, lr, before.passes,
           after.passes, before.couplets, after.couplets, after.kl,
           loss_curve[steps - 1], 1000 * dpo_s / steps);
    free(loss_curve), free(xs), free(order), free(c0), free(c0_val), free(chosen), free(rejected);
    nn_gpt_free(pol), nn_gpt_free(ref);
    poems_close(&po);
    nn_graph_release();
    return failed;
}
