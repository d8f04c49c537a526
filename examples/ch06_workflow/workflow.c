/* examples/ch06_workflow/workflow.c — generative AI (生成式AI) in a workflow (工作流): several
 * calls of a model and of ordinary code, arranged in a flow, each step's output the next
 * step's input.
 *
 * The tutorial (常见的大模型词, 16 and 31): a system that writes new content from what it is
 * given is generative AI (生成式AI); using the model several times in a row (split a script
 * into paragraphs, write a picture prompt for each, draw each picture) and arranging those
 * steps into one process is a workflow (工作流). Here the flow is:
 *
 *   1. train      corpus (tang300, poems.h)              -> a tiny GPT (chapter 5); or load one
 *   2. generate   prompt, N seeds, temperature            -> N candidate poems (N model calls),
 *                                                           the same number of characters each
 *   3. score      each candidate                          -> three numbers in 0 .. 1 and their mean
 *        rhythm   = the share of its clauses that are 5 or 7 characters long (poems.h)
 *        fluency  = 1 - (mean -ln p(character) under the model) / ln V
 *                   (0: no better than a uniform guess over the V characters; 1: certain)
 *        variety  = distinct characters / characters (punctuation and line ends not counted):
 *                   1 - the repetition
 *        score    = (rhythm + fluency + variety) / 3
 *   4. select     the N scores                            -> the best candidate
 *   5. continue   the best candidate, as the new prompt   -> as many characters more (one
 *                 more model call), scored the same way
 * Every step prints what went in and what came out. Picking the best of N by a score is the
 * simplest workflow there is (best-of-N, or rejection sampling); the print-out compares the
 * best candidate's score with the average candidate's, which is what one call would give.
 * The score is a rule of thumb, not a judge of poetry: fluency rewards what the model finds
 * likely, and variety keeps that from being the same character again and again.
 *
 *   workflow [--quick | --full] [FILE] [--model DIR] [--candidates N] [--temperature X]
 *            [--top-k K] [--prompt TEXT] [--len N] [--seed N] [--out DIR]
 * The model is chapter 6's shared poem GPT (examples/common/ch06_quick_gpt.h), so that its
 * figures read beside the other demos':
 *   --quick  C 16, 1 block, T 16, 30 steps; 3 candidates (the smoke tests; seconds)
 *   default  C 64, 2 blocks, T 32, batch 16, 120 steps; 6 candidates of 40 characters
 *            (about 20 s; the poems of so small a budget are poor: the flow is the point)
 *   --full   the same model with T 64, up to 800 steps (about three minutes); 8 candidates
 *   --model DIR  step 1 loads a saved GPT instead (nn_gpt_load), e.g. chapter 5's: tiny_gpt
 *            --full --out big, then workflow --model big/gpt (its vocabulary must be the
 *            corpus's, as it is for tiny_gpt on the same text)
 * What it measured (default, tang300, seed 42, 13 s): the best of 6 candidates scored 0.610
 * (rhythm 0.50) against a mean of 0.485 (rhythm 0.11) and a worst of 0.425.
 * Writes DIR/ch06_workflow.csv (every candidate: its text and scores). DIR: out by default.
 */
#include "../common/ch06_quick_gpt.h"   /* the poem GPT all chapter 6 demos share */

typedef struct candidate {
    int ids[400], n;
    double rhythm, fluency, variety, score;
    int clauses;
} candidate;

/* Mean -ln p of seq[from .. n) given what precedes it, in windows of the model's context
 * overlapping by half (as gpt_span_loss scores a text), without gradients. */
static double mean_nll(nn_gpt *g, const int *seq, int n, int from) {
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    int T = g->cfg.context, V = g->cfg.vocab, half = T / 2 > 0 ? T / 2 : 1;
    double total = 0.0;
    int count = 0;
    for (int s = 0, scored = 0; scored < n - 1; s += half) {
        int t = n - 1 - s < T ? n - 1 - s : T;                    /* window [s, s + t) */
        nn_tensor *lp = nn_log_softmax(nn_gpt_forward(g, seq + s, 1, t));   /* (1, t, V) */
        for (int i = scored - s; i < t; i++)
            if (s + i + 1 >= from) total -= lp->data[(size_t)i * V + seq[s + i + 1]], count++;
        scored = s + t;
        nn_graph_clear();
    }
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    return count ? total / count : 0.0;
}

/* distinct / all characters, punctuation and line ends not counted */
static double variety(const nn_vocab *v, const int *ids, int n) {
    int chars = 0, distinct = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] != NN_VOCAB_UNK && is_break(v->chars[ids[i]])) continue;
        chars++;
        int j = 0;
        while (j < i && ids[j] != ids[i]) j++;
        distinct += j == i;
    }
    return chars ? (double)distinct / chars : 0.0;
}

/* Step 3 for one text: prefix[0 .. np) is what the model was given (a line end, the prompt),
 * c->ids[0 .. c->n) what it wrote. */
static void score(nn_gpt *g, const nn_vocab *v, const int *prefix, int np, candidate *c) {
    int *seq = malloc(sizeof(int) * (size_t)(np + c->n));
    memcpy(seq, prefix, sizeof(int) * (size_t)np);
    memcpy(seq + np, c->ids, sizeof(int) * (size_t)c->n);
    double nll = mean_nll(g, seq, np + c->n, np);
    free(seq);
    c->fluency = 1.0 - nll / log((double)v->size);
    c->fluency = c->fluency < 0 ? 0 : c->fluency;
    c->rhythm = rhythm(v, c->ids, c->n, &c->clauses);
    c->variety = variety(v, c->ids, c->n);
    c->score = (c->rhythm + c->fluency + c->variety) / 3.0;
}

static void print_scores(const candidate *c) {
    printf("      rhythm %.2f (%d clauses)  fluency %.2f  variety %.2f  -> score %.3f\n",
           c->rhythm, c->clauses, c->fluency, c->variety, c->score);
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *file = NULL, *prompt = NULL, *model_dir = NULL;
    int n_cand = 6, top_k = 0, len = 40;
    float temperature = 0.8f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_ARG("FILE", &file, "a UTF-8 text file to learn (default: tang300, 唐诗三百首)"),
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT and 3 candidates (for the tests)"),
        NN_OPT_FLAG("--full", &full, "the --full GPT (T 64; minutes) and 8 candidates"),
        NN_OPT_STR("--model", &model_dir, "DIR", "a saved GPT (tiny_gpt's out/gpt) instead of "
                   "training one"),
        NN_OPT_INT("--candidates", &n_cand, 1, 64, "N: candidate poems (--quick 3, --full 8)"),
        NN_OPT_FLOAT("--temperature", &temperature, 0, 10, "sampling temperature (0: greedy)"),
        NN_OPT_INT("--top-k", &top_k, 0, 1000000, "keep the k most likely (0: all)"),
        NN_OPT_STR("--prompt", &prompt, "TEXT", "the start of the poems (default 床前明月光)"),
        NN_OPT_INT("--len", &len, 4, 390, "characters each candidate writes after the prompt"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the table of candidates"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "A workflow (工作流) of generative AI (生成式AI): train a tiny GPT, write N\n"
                     "candidate poems, score each (rhythm, the model's own fluency, variety), keep\n"
                     "the best and continue it; every step's input and output printed.",
                     opts, nopt);
    printf("chapter 6: generative AI in a workflow (生成式AI, 工作流)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    ch06_level level = ch06_level_of(quick, full);
    if (!nn_option_given(opts, nopt, "--candidates"))
        n_cand = level == CH06_QUICK ? 3 : level == CH06_FULL ? 8 : 6;

    /* ---- step 1: train (or load): chapter 6's shared poem GPT ------------------------------- */
    poems po;
    if (poems_open(&po, file, false, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    const nn_vocab *v = po.vocab;
    if (model_dir) {
        printf("\nstep 1  load\n  in:   %s (nn_gpt_load; its vocabulary must be this corpus's)\n",
               model_dir);
    } else {
        gpt_settings st = ch06_settings(level, v->size);
        printf("\nstep 1  train\n  in:   %s (%d characters, V = %d; the last 10%% held out), "
               "C %d, %d block%s, T %d, batch %d, up to %d steps\n",
               po.tang ? "tang300" : po.source, po.n, v->size, st.cfg.dim, st.cfg.layers,
               st.cfg.layers > 1 ? "s" : "", st.cfg.context, st.B, st.steps);
    }
    static ch06_gpt m;
    if (ch06_gpt_get(&m, &po, level, model_dir, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    nn_gpt *g = m.gpt;
    printf("  out:  a model of %zu parameters, held-out loss %.3f nats per character (ln V = "
           "%.3f)\n", g->model->count, m.val, log((double)v->size));
    const nn_gpt_config *cf = &g->cfg;

    /* ---- step 2: generate -------------------------------------------------------------------- */
    char auto_prompt[64];
    int np, *p = poems_prompt(&po, &prompt, auto_prompt, sizeof auto_prompt, &np);
    if (!p) {
        fprintf(stderr, "the prompt is not valid UTF-8: %s\n", nn_last_error());
        nn_gpt_free(g), poems_close(&po);
        return 2;
    }
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : -1;
    nn_sampling how = {.temperature = temperature, .top_k = top_k};
    candidate *cand = calloc((size_t)n_cand, sizeof *cand);
    printf("\nstep 2  generate (%d model calls)\n  in:   the prompt \"%s\", temperature %g%s, "
           "seeds %llu .. %llu, %d characters each (the same length, so that the scores compare)\n"
           "  out:\n", n_cand, prompt, temperature, top_k ? ", top-k" : "", (unsigned long long)seed,
           (unsigned long long)(seed + n_cand - 1), len);
    for (int i = 0; i < n_cand; i++) {
        nn_rng rng;
        nn_rng_seed(&rng, seed + (uint64_t)i);
        cand[i].n = gpt_write_text(g, p, np, nl, len, how, &rng, cand[i].ids);
        printf("  [%d]\n", i + 1);
        print_text(v, p, np, cand[i].ids, cand[i].n);
    }

    /* ---- step 3: score ----------------------------------------------------------------------- */
    int prefix[80], npre = 0;
    if (nl >= 0) prefix[npre++] = nl;
    for (int i = 0; i < np && npre < 80; i++) prefix[npre++] = p[i];
    printf("\nstep 3  score (the model reads each candidate once more for its fluency)\n"
           "  in:   the %d candidates\n  out:\n", n_cand);
    double mean = 0.0, mean_r = 0.0, mean_f = 0.0, mean_v = 0.0;
    int best = 0, worst = 0;
    for (int i = 0; i < n_cand; i++) {
        score(g, v, prefix, npre, &cand[i]);
        printf("  [%d]", i + 1);
        print_scores(&cand[i]);
        mean += cand[i].score, mean_r += cand[i].rhythm, mean_f += cand[i].fluency,
            mean_v += cand[i].variety;
        if (cand[i].score > cand[best].score) best = i;
        if (cand[i].score < cand[worst].score) worst = i;
    }
    mean /= n_cand, mean_r /= n_cand, mean_f /= n_cand, mean_v /= n_cand;

    /* ---- step 4: select ---------------------------------------------------------------------- */
    candidate *b = &cand[best];
    printf("\nstep 4  select\n  in:   %d scores, mean %.3f (what one call gives on average), "
           "worst %.3f\n  out:  candidate [%d], score %.3f (rhythm %.2f vs mean %.2f, fluency "
           "%.2f vs %.2f, variety %.2f vs %.2f)\n", n_cand, mean, cand[worst].score, best + 1,
           b->score, b->rhythm, mean_r, b->fluency, mean_f, b->variety, mean_v);

    /* ---- step 5: continue the best ---------------------------------------------------------- */
    int *next_prompt = malloc(sizeof(int) * (size_t)(np + b->n));
    memcpy(next_prompt, p, sizeof(int) * (size_t)np);
    memcpy(next_prompt + np, b->ids, sizeof(int) * (size_t)b->n);
    int nnext = np + b->n;
    static candidate more;
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1000);
    /* the model reads the last T characters of it: the poem so far, ending in a line end */
    more.n = nn_gpt_generate(g, next_prompt, nnext, len, how, &rng, -1, more.ids);
    score(g, v, next_prompt, nnext, &more);
    printf("\nstep 5  continue (one more model call)\n  in:   candidate [%d] as the prompt (the "
           "model sees its last %d characters)\n  out:  %d more characters:\n", best + 1, cf->context,
           more.n);
    print_text(v, more.ids, 0, more.ids, more.n);
    printf("  score of the new text:\n   ");
    print_scores(&more);

    /* ---- the table ---------------------------------------------------------------------------- */
    char path[4096];
    int failed = 0;
    FILE *f = nn_out_path(path, sizeof path, out_dir, "ch06_workflow.csv") ? fopen(path, "w") : NULL;
    if (!f) {
        fprintf(stderr, "cannot write the table into %s: %s\n", out_dir, nn_last_error());
        failed = 1;
    } else {
        fprintf(f, "candidate,seed,rhythm,fluency,variety,score,chosen,text\n");
        for (int i = 0; i < n_cand; i++) {
            char text[4 * 400 + 1];
            nn_vocab_decode(v, cand[i].ids, cand[i].n, text, sizeof text);
            for (char *x = text; *x; x++) if (*x == '\n') *x = '/';   /* one row, no quoting */
            fprintf(f, "%d,%llu,%.4f,%.4f,%.4f,%.4f,%d,%s\n", i + 1,
                    (unsigned long long)(seed + (uint64_t)i), cand[i].rhythm, cand[i].fluency,
                    cand[i].variety, cand[i].score, i == best, text);
        }
        failed = fclose(f) != 0;
        if (failed) fprintf(stderr, "cannot write %s\n", path);
        else printf("\nwrote %s\n", path);
    }
    printf("result: corpus=%s params=%zu steps=%d val_loss=%.3f candidates=%d best=%d "
           "best_score=%.3f mean_score=%.3f worst_score=%.3f best_rhythm=%.3f mean_rhythm=%.3f "
           "best_fluency=%.3f mean_fluency=%.3f best_variety=%.3f mean_variety=%.3f "
           "continued_score=%.3f\n", po.tang ? "tang300" : file ? "file" : "synthetic",
           g->model->count, m.steps, m.val, n_cand, best + 1, b->score, mean, cand[worst].score,
           b->rhythm, mean_r, b->fluency, mean_f, b->variety, mean_v, more.score);
    free(next_prompt);
    free(cand);
    free(p);
    nn_gpt_free(g);
    poems_close(&po);
    nn_graph_release();
    return failed;
}
