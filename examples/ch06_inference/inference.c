/* examples/ch06_inference/inference.c — 推理 (inference) and 私有化部署 (local deployment):
 * a saved model, read from disk, writing text on this machine with nothing else running.
 *
 * The tutorial: 调整好后,根据函数的输入计算输出结果,这个过程叫做推理 — once trained, computing
 * the output from an input is inference; 把模型下载到本地进行使用的过程,叫做私有化部署 — using a
 * model downloaded to your own machine instead of someone's service is local deployment.
 * Here the "download" is a folder of three files (nn_gpt_save, the format chapter 5's tiny_gpt
 * writes to out/gpt): gpt.cfg (the sizes, text), gpt.nnvc (the vocabulary), gpt.nnck (the
 * weights). This program and those files are all it takes: no network, no server.
 *
 * If the folder has no model yet, a small one is trained here first (seconds, the chapter 6
 * default of examples/common/ch06_quick_gpt.h) and saved there, and then read back from disk
 * like any other.
 *
 * Generation writes one token at a time: logits of the last position -> sample -> append.
 *   without a cache  every new token runs the whole window again: token n costs n positions
 *                    through every block and the head, so n tokens cost ~ n^2 / 2 positions
 *   with a KV cache  (键值缓存, nn_gpt_forward_cached) each block keeps the keys and values of
 *                    the tokens already read, (B, H, context, C/H) each; a new token costs one
 *                    position plus its attention over the cached keys: ~ n positions in all
 * Both give the same logits (tests/test_transformer.c), so with the same seed the same text:
 * the program checks that (exit status 1 if not) and measures tokens per second for both,
 *   (a) inside the window: prompt + new tokens <= context, where the cache does its job;
 *   (b) past the window: with learned (absolute) positions, sliding the window by one moves
 *       every token to a new position, so the cached keys are stale and nn_gpt_generate
 *       rebuilds the cache for every token: no gain. (Models with relative positions, RoPE,
 *       can keep a rolling cache; and real models' windows are thousands of tokens long.)
 * Cost of the cache: 2 L context C floats per sequence (model_size prints it for big models).
 *
 *   inference [--quick | --full] [--model DIR] [--prompt TEXT] [--len N] [--lines N]
 *             [--temperature X] [--top-k K] [--top-p P] [--no-bench] [--seed N] [--out DIR]
 *   default   DIR/gpt (DIR = --out, default out): load it, or train one (~15 s) and save it;
 *             a poem from the prompt; then about 2 s of timing
 *   --quick   if it must train: a tiny model (a second); timing a fraction of a second
 *   --full    if it must train: the chapter 6 --full model (minutes); timing at least 5 s
 *             for each of (a) and (b), 40 s on 2 cores for a model of tiny_gpt --full's size
 * For the figures in the docs: tiny_gpt --full first (out/gpt), then inference --full.
 */
#include "../common/ch06_quick_gpt.h"

#include <sys/stat.h>

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static long file_bytes(const char *dir, const char *name) {
    char path[4096 + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* No model in dir: train the chapter 6 model of `level` on tang300 and save it there. */
static int train_and_save(const char *dir, ch06_level level, uint64_t seed) {
    poems po;
    if (poems_open(&po, NULL, false, level == CH06_QUICK ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    poems_describe(&po, false);
    ch06_gpt m;
    int rc = ch06_gpt_get(&m, &po, level, NULL, seed);
    if (rc == 0) {
        ch06_describe(&m, NULL);
        if (nn_gpt_save(m.gpt, po.vocab, dir) != 0) {
            fprintf(stderr, "cannot save the model to %s: %s\n", dir, nn_last_error());
            rc = 1;
        } else {
            printf("saved to %s/ (the next run reads it from there)\n", dir);
        }
    }
    nn_gpt_free(m.gpt);
    poems_close(&po);
    return rc;
}

typedef struct bench {
    int runs, tokens;         /* per kind */
    double cached_s, recompute_s;
    bool identical;
} bench;

/* Generate n_new tokens after prompt with the cache and without it, same seed each time, runs
 * times at least and until the slower one has used `budget` seconds (seeds seed, seed+1, ...,
 * so the runs write different texts). */
static int time_both(nn_gpt *g, const int *prompt, int np, int n_new, nn_sampling how,
                     uint64_t seed, int min_runs, double budget, bench *b) {
    int *a = malloc(sizeof(int) * (size_t)n_new), *c = malloc(sizeof(int) * (size_t)n_new);
    memset(b, 0, sizeof *b);
    b->identical = true;
    for (int r = -1; r < min_runs || b->recompute_s < budget; r++) {   /* r = -1: warm up */
        nn_rng rng;
        nn_rng_seed(&rng, seed + (uint64_t)(r + 1));
        g->recompute = false;
        double t0 = nn_seconds();
        int na = nn_gpt_generate(g, prompt, np, n_new, how, &rng, -1, a);
        double t1 = nn_seconds();
        nn_rng_seed(&rng, seed + (uint64_t)(r + 1));
        g->recompute = true;
        int nc = nn_gpt_generate(g, prompt, np, n_new, how, &rng, -1, c);
        double t2 = nn_seconds();
        g->recompute = false;
        if (na < 0 || nc < 0) {
            free(a), free(c);
            return -1;
        }
        b->identical = b->identical && na == nc && memcmp(a, c, sizeof(int) * (size_t)na) == 0;
        if (r < 0) continue;
        b->runs++, b->tokens += na;
        b->cached_s += t1 - t0, b->recompute_s += t2 - t1;
    }
    free(a), free(c);
    return 0;
}

int main(int argc, char **argv) {
    bool quick = false, full = false, no_bench = false;
    const char *out_dir = "out", *model_dir = NULL, *prompt = "床前明月光";
    int len = 120, lines = 4, top_k = 0;
    float temperature = 0.8f, top_p = 0.0f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny model if one must be trained; short timing (tests)"),
        NN_OPT_FLAG("--full", &full, "the --full model if one must be trained; longer timing"),
        NN_OPT_STR("--model", &model_dir, "DIR", "the model folder (default: DIR/gpt of --out)"),
        NN_OPT_STR("--prompt", &prompt, "TEXT", "the text to continue"),
        NN_OPT_INT("--len", &len, 1, 100000, "characters to write at most"),
        NN_OPT_INT("--lines", &lines, 1, 100000, "stop after this many lines (empty ones "
                   "not counted)"),
        NN_OPT_FLOAT("--temperature", &temperature, 0, 10, "sampling temperature (0: greedy)"),
        NN_OPT_INT("--top-k", &top_k, 0, 1000000, "keep the k most likely (0: all)"),
        NN_OPT_FLOAT("--top-p", &top_p, 0, 1, "keep the nucleus of probability p (0: off)"),
        NN_OPT_FLAG("--no-bench", &no_bench, "only write the text: no timing"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder whose gpt/ holds the model"),
    };
    nn_parse_options(argc, argv,
                     "推理 / 私有化部署: load a saved GPT (a folder of three files) and write text from a\n"
                     "prompt, offline; then the same generation with and without the KV cache: tokens\n"
                     "per second and identical output. Trains and saves a small model first if none.",
                     opts, NN_COUNTOF(opts));
    printf("chapter 6: inference and local deployment (推理 / 私有化部署)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    ch06_level level = ch06_level_of(quick, full);
    char dir[4096], cfg_path[4096 + 16];
    snprintf(dir, sizeof dir, "%s", model_dir ? model_dir : out_dir);
    if (!model_dir) snprintf(dir, sizeof dir, "%s/gpt", out_dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/gpt.cfg", dir);

    /* ---- the model: on disk, or trained here once ---------------------------------------- */
    bool trained = false;
    if (!exists(cfg_path)) {
        printf("\nno saved model in %s/ (tiny_gpt --out %s writes one): training a small one "
               "here first\n", dir, out_dir);
        if (train_and_save(dir, level, seed) != 0) return 1;
        trained = true;
        nn_graph_release();
    }
    double t0 = nn_seconds();
    nn_vocab *v = NULL;
    nn_gpt *g = nn_gpt_load(dir, &v);
    if (!g) {
        fprintf(stderr, "cannot load the model in %s: %s\n", dir, nn_last_error());
        return 1;
    }
    double load_s = nn_seconds() - t0;
    const nn_gpt_config *c = &g->cfg;
    long fc = file_bytes(dir, "gpt.cfg"), fv = file_bytes(dir, "gpt.nnvc"),
         fw = file_bytes(dir, "gpt.nnck");
    printf("\nloaded %s/ in %.3f s: gpt.cfg %ld bytes, gpt.nnvc %ld bytes (%d characters), "
           "gpt.nnck %ld bytes\n  (%zu weights x 4 bytes); C %d, %d heads, %d block(s), context "
           "%d, V = %d\n", dir, load_s, fc, fv, v->size - 1, fw, g->model->count,
           c->dim, c->heads, c->layers, c->context, c->vocab);
    printf("everything this needs: the three files and this program; nothing is fetched from "
           "anywhere\n");

    /* ---- a poem from the prompt ----------------------------------------------------------- */
    int np, *p = encode_prompt(v, prompt, &np);
    if (!p || np == 0) {
        fprintf(stderr, "the prompt is empty or not valid UTF-8\n");
        free(p), nn_gpt_free(g), nn_vocab_free(v);
        return 2;
    }
    nn_sampling how = {.temperature = temperature, .top_k = top_k, .top_p = top_p};
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : -1;
    int *out = malloc(sizeof(int) * (size_t)len);
    t0 = nn_seconds();
    /* text after the prompt, poem after poem (gpt_write_text), cut after `lines` lines of
     * text (empty lines between poems not counted): a poem that ends early is followed by
     * the next one instead of ending the output */
    int made = gpt_write_text(g, p, np, nl, len, how, &rng, out);
    for (int i = 0, seen = 0; i < made; i++)
        if (out[i] == nl && (i > 0 ? out[i - 1] : p[np - 1]) != nl && ++seen == lines)
            made = i + 1;
    double gen_s = nn_seconds() - t0;
    printf("\nprompt \"%s\", temperature %g, top-k %d, top-p %g:\n", prompt, temperature, top_k,
           top_p);
    print_text(v, p, np, out, made);
    printf("(%d characters in %.3f s)\n", made, gen_s);
    int failed = 0;
    if (no_bench) {
        printf("result: model=%s params=%zu context=%d chars=%d gen_s=%.3f\n",
               trained ? "trained" : "loaded", g->model->count, c->context, made, gen_s);
        goto done;
    }

    /* ---- the KV cache against recomputing the window ------------------------------------ */
    {
        /* the prompt as the model reads poems: a line end, then (up to a quarter of the
         * window of) the prompt's characters */
        int keep = c->context / 4 > 1 ? c->context / 4 : 1, nb = 0;
        int *bp = malloc(sizeof(int) * (size_t)(keep + 1));
        if (nl >= 0) bp[nb++] = nl;
        for (int i = np > keep ? np - keep : 0; i < np; i++) bp[nb++] = p[i];
        int in_new = c->context - nb, long_new = level == CH06_QUICK ? c->context + 8
                                                                      : 3 * c->context;
        double budget = level == CH06_QUICK ? 0.05 : level == CH06_FULL ? 5.0 : 1.0;
        int min_runs = level == CH06_QUICK ? 1 : 3;
        if (in_new < 1) in_new = 1;
        bench in, past;
        if (time_both(g, bp, nb, in_new, how, seed, min_runs, budget, &in) != 0 ||
            time_both(g, bp, nb, long_new, how, seed, min_runs, budget, &past) != 0) {
            fprintf(stderr, "generation failed: %s\n", nn_last_error());
            free(bp);
            failed = 1;
            goto done;
        }
        free(bp);
        double in_c = in.tokens / in.cached_s, in_r = in.tokens / in.recompute_s;
        double past_c = past.tokens / past.cached_s, past_r = past.tokens / past.recompute_s;
        /* positions computed per token without the cache, inside the window: the window
         * grows from nb to context - 1, so on average (nb + context - 1) / 2 of them */
        double positions = (nb + c->context - 1) / 2.0;
        printf("\ngeneration speed, same seeds with and without the KV cache (prompt of %d "
               "tokens, window %d):\n", nb, c->context);
        printf("  %-34s %6s %8s %12s %12s %8s %s\n", "", "runs", "tokens", "cache tok/s",
               "recompute", "speedup", "same text");
        printf("  %-34s %6d %8d %12.0f %12.0f %7.1fx %s\n", "(a) inside the window",
               in.runs, in.tokens, in_c, in_r, in_c / in_r, in.identical ? "yes" : "NO");
        printf("  %-34s %6d %8d %12.0f %12.0f %7.1fx %s\n", "(b) past the window",
               past.runs, past.tokens, past_c, past_r, past_c / past_r,
               past.identical ? "yes" : "NO");
        printf("  (a) +%d tokens a run; without the cache each costs %.1f positions on average, "
               "with it 1\n  (b) +%d tokens a run; once the window is full every token moves "
               "to a new position, the\n      cache is rebuilt each time (absolute positions): "
               "little or no gain\n", in_new, positions, long_new);
        printf("  why (a) is not %.0fx: some costs of a step do not shrink with the positions:\n"
               "  %s, every op is\n  dispatched once, the sampler reads %d logits; and one "
               "position is a matrix-vector product,\n  which keeps the arithmetic units less "
               "busy than the window's matrix-matrix product (each\n  weight read once, used "
               "for every position). In large models that matrix-vector product is\n  bound "
               "by reading the weights from memory: why servers batch many sequences into one "
               "step.\n", positions, g->head ? "the head multiplies by its C x V matrix"
                                             : "the tied head copies the V x C token table, "
                                               "transposed", c->vocab);
        printf("  the cache: %d block(s) x (keys + values) x %d positions x %d = %zu floats "
               "(%.1f KiB) per sequence\n", c->layers, c->context, c->dim,
               (size_t)2 * c->layers * c->context * c->dim,
               2.0 * c->layers * c->context * c->dim * 4 / 1024);
        if (!in.identical || !past.identical) {
            fprintf(stderr, "the cached and the recomputed generations differ\n");
            failed = 1;
        }
        printf("result: model=%s params=%zu context=%d chars=%d cached_tok_s=%.0f "
               "recompute_tok_s=%.0f speedup=%.2f past_window_cached_tok_s=%.0f "
               "past_window_recompute_tok_s=%.0f past_window_speedup=%.2f identical=%d\n",
               trained ? "trained" : "loaded", g->model->count, c->context, made, in_c, in_r,
               in_c / in_r, past_c, past_r, past_c / past_r, in.identical && past.identical);
    }
done:
    free(out), free(p);
    nn_gpt_free(g);
    nn_vocab_free(v);
    nn_graph_release();
    return failed;
}
