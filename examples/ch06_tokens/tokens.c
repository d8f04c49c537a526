/* examples/ch06_tokens/tokens.c — token (词元): what a language model reads, and why it need
 * not be one character.
 *
 * The tutorial (常见的大模型词, 17): 这里的每一个分割成最小力度的词叫做token — each smallest
 * piece the text is cut into is a token. Chapters 4 and 5 cut the poems into characters
 * (字符). Real models cut text with byte-pair encoding (BPE, nn/data/bpe.h): start from the
 * characters and merge, again and again, the neighbouring pair seen most often,
 *   count(a, b) = how often token a is followed by token b;  merge argmax -> new token "ab"
 * until the vocabulary has V ids or no pair occurs twice. Frequent pieces (明月, "the ")
 * become one token; rare ones stay spelled out; every text of known characters can still be
 * written. The price is a larger vocabulary (a bigger embedding table and output layer),
 * the gain a shorter sequence: the same window of T tokens sees more text.
 *
 * What it prints:
 *   1. for the corpus (tang300, titles dropped; FILE, or --titles to keep them) and, when
 *      installed, the English fortunes file: tokens per character (字符) and per line for a
 *      growing number of merges, up to the point where no pair occurs twice any more (tang300
 *      runs out at about 4200 ids: its 2500 characters and some 1700 merges);
 *   2. the first merges learned, and a line cut into tokens;
 *   3. round trips: decode(encode(text)) == text for the whole corpus; a tokenizer trained
 *      on the training text only, saved (nn_bpe_save) and loaded back, encodes the held-out
 *      text to the same ids;
 *   4. the tiny GPT of chapter 5 trained on characters and on BPE tokens at the same budget
 *      (the same steps, batch, window of T ids, width and depth: only the vocabulary
 *      differs). Losses per token do not compare (a BPE token carries more text), so both are
 *      stated per character:
 *        nats per character = (sum over the validation text of -ln p(next token)) / characters
 *      i.e. the mean loss per token times the tokens predicted, divided by the characters those
 *      tokens hold. The counted bigram model is given the same way, as a yardstick.
 *   Both models use the same alphabet (the characters of the training text; the held-out
 *   text's other characters are <unk> for both), so their per-character losses compare.
 *
 *   tokens [--quick | --full] [FILE] [--titles] [--merges N] [--steps N] [--seed N]
 *          [--out DIR]
 * Both GPTs are chapter 6's shared poem GPT (examples/common/ch06_quick_gpt.h), but for the
 * vocabulary:
 *   --quick  300 merges; C 16, 1 block, T 16, batch 8, 30 steps on the first 4000 ids of the
 *            training text (the smoke tests; seconds)
 *   default  500 merges; C 64, 2 blocks, T 32, batch 16, AdamW lr 3e-3, 120 steps per model
 *   --full   the same with T 64, up to 800 steps with early stopping (minutes per model)
 *
 * What it measured (tang300, seed 42). Tokenizer: 2502 ids (the characters) -> 4159 when no
 * pair occurs twice any more (1657 merges), 1.27 characters per token, 11.1 tokens per line
 * instead of 14.4; the English fortunes file: 81 -> 1724 ids, 3.5 characters per token. GPT
 * (the shared one, 500 merges: V 2451 vs 2951): default 120 steps, 5.98 (characters) vs
 * 5.96 (BPE) nats per character, both about the counted bigram's (5.83 and 5.96, each on its
 * own tokens); --steps 600 (early stopping), 5.86 at step 300 vs 5.96 at step 120. On 22 000
 * training characters most merged tokens are rare (a merge needs only two occurrences), so
 * the BPE model has more, rarer things to learn and overfits sooner: BPE pays off with more
 * text than this (and on English, where a token holds 2 to 3 characters, the shorter
 * sequences weigh more). The default takes about 30 s on 2 busy cores.
 * Writes DIR/ch06_tokens.nnbp (the tokenizer the GPT used) and DIR/ch06_tokens_loss.svg
 * (validation loss per character while training, both models). DIR: out by default.
 */
#include "../common/ch06_quick_gpt.h"   /* the poem GPT all chapter 6 demos share */

#ifndef ENGLISH_FORTUNES /* -DENGLISH_FORTUNES='"/no/such/file"' tries the case without it */
#define ENGLISH_FORTUNES "/usr/share/games/fortunes/fortunes"
#endif

/* ---- counting text ---------------------------------------------------------------------- */

static int utf8_chars(const char *s, size_t n) {
    int c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* Lines that hold at least one character (the empty lines between poems do not count). */
static int text_lines(const char *s, size_t n) {
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && (i + 1 == n || s[i + 1] == '\n')) lines++;
    return lines;
}

/* The byte offset of character number k of s[0 .. n). */
static size_t char_offset(const char *s, size_t n, int k) {
    size_t i = 0;
    for (int c = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == k) break;
    return i;
}

/* Characters in token id (a token may be several). */
static int token_chars(const nn_bpe *bpe, int id) {
    size_t len;
    const char *s = nn_bpe_token(bpe, id, &len);
    return utf8_chars(s, len);
}

/* text as BPE ids (malloc'd; *n their count), or NULL. */
static int *bpe_ids(const nn_bpe *bpe, const char *text, size_t len, int *n) {
    *n = nn_bpe_encode(bpe, text, len, NULL, 0);
    if (*n < 0) return NULL;
    int *ids = malloc(sizeof(int) * (size_t)(*n > 0 ? *n : 1));
    if (ids) nn_bpe_encode(bpe, text, len, ids, (size_t)*n);
    return ids;
}

/* Print a token, a line end as \n and a space as ␣ (so that "e " and "e" differ). */
static void show_token(const nn_bpe *bpe, int id) {
    size_t len;
    const char *s = nn_bpe_token(bpe, id, &len);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n') printf("\\n");
        else if (s[i] == ' ') printf("␣");
        else putchar(s[i]);
    }
}

/* ---- part 1: tokens per character for a growing number of merges ----------------------------
 * Prints one row per entry of merges[] (-1: until no pair occurs twice) and returns the ids
 * reached at the last row (where pairs ran out), or -1 on failure. */
static int tokenizer_table(const char *name, const char *text, size_t len, const int *merges,
                           int nm) {
    nn_vocab *abc = nn_vocab_build(text, len, 0);
    if (!abc) return fprintf(stderr, "%s: %s\n", name, nn_last_error()), -1;
    int A = abc->size, chars = utf8_chars(text, len), lines = text_lines(text, len);
    nn_vocab_free(abc);
    printf("\n%s: %d characters on %d lines; alphabet %d ids (<unk> and %d characters)\n", name,
           chars, lines, A, A - 1);
    printf("  %7s %7s %8s %9s %9s %9s\n", "merges", "ids", "tokens", "tok/char", "char/tok",
           "tok/line");
    int last = -1;
    for (int k = 0; k < nm; k++) {
        double t0 = nn_seconds();
        nn_bpe *bpe = nn_bpe_train(text, len, merges[k] < 0 ? NN_BPE_MAX_SIZE : A + merges[k]);
        double secs = nn_seconds() - t0;
        if (!bpe) return fprintf(stderr, "%s: %s\n", name, nn_last_error()), -1;
        int n, *ids = bpe_ids(bpe, text, len, &n), nl = nn_vocab_id(bpe->chars, '\n'), breaks = 0;
        if (!ids) return nn_bpe_free(bpe), fprintf(stderr, "%s: %s\n", name, nn_last_error()), -1;
        for (int i = 0; i < n; i++) breaks += nl > 0 && ids[i] == nl;
        /* per line: the tokens of the line itself, its line break not counted */
        printf("  %7d %7d %8d %9.3f %9.3f %9.2f", bpe->n_merges, bpe->size, n, (double)n / chars,
               (double)chars / n, (double)(n - breaks) / (lines > 0 ? lines : 1));
        bool out_of_pairs = merges[k] < 0 || bpe->n_merges < merges[k];
        if (out_of_pairs) printf("   no pair occurs twice any more (%.2f s to train)", secs);
        printf("\n");
        last = bpe->size;
        free(ids);
        nn_bpe_free(bpe);
        if (out_of_pairs) break;
    }
    return last;
}

/* ---- part 4: a GPT on one kind of token -------------------------------------------------- */

typedef struct token_model {
    const char *name;
    int V;                     /* ids */
    int *train, n_train;       /* the training text as ids */
    int *val, n_val;           /* the validation text as ids */
    int val_chars;             /* characters the predicted validation tokens hold (all but the first) */
    gpt_run run;
    double per_token, per_char, bigram_per_char;
    float curve_per_char[POEMS_MAX_POINTS];
} token_model;

/* Train on m's ids; the losses per token and per character. */
static int train_model(token_model *m, const gpt_settings *base, bool quick, uint64_t seed) {
    gpt_settings st = *base;
    st.cfg.vocab = m->V;
    st.label = m->name;
    nn_token_span tr = {m->train, m->n_train}, va = {m->val, m->n_val};
    /* --quick draws 30 x 8 windows: the first ids of the text are as good as all, and
     * gpt_train's final loss over the training span then costs less (as ch06_quick_gpt.h) */
    if (quick && tr.n > CH06_QUICK_TEXT) tr.n = CH06_QUICK_TEXT;
    if (gpt_train(&m->run, &st, tr, va, seed) != 0) return -1;
    /* gpt_span_loss averages over the n_val - 1 predicted tokens */
    double predicted = m->n_val - 1, per_char = predicted / m->val_chars;
    m->per_token = m->run.val;
    m->per_char = m->run.val * per_char;
    for (int i = 0; i < m->run.curve.n; i++)
        m->curve_per_char[i] = (float)(m->run.curve.val[i] * per_char);
    nn_token_span all = {m->train, m->n_train};   /* the counts may read everything */
    m->bigram_per_char = count_baselines(all, va, m->V).bigram_interp * per_char;
    printf("  %-5s V %5d, %7zu parameters, start loss %.3f (ln V %.3f), best at step %d of %d, "
           "%.1f ms per step\n", m->name, m->V, m->run.gpt->model->count, m->run.start_loss,
           log((double)m->V), m->run.best_step, m->run.steps, m->run.ms_per_step);
    return 0;
}

int main(int argc, char **argv) {
    bool quick = false, full = false, titles = false;
    const char *out_dir = "out", *file = NULL;
    int merges = 500, steps = 0;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_ARG("FILE", &file, "a UTF-8 text file (default: tang300, 唐诗三百首)"),
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT and a few dozen steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "the --full GPT (T 64, up to 800 steps; minutes)"),
        NN_OPT_FLAG("--titles", &titles, "keep tang300's title and author lines"),
        NN_OPT_INT("--merges", &merges, 1, 100000, "merges of the GPT's tokenizer (--quick 300)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000,
                   "training steps per model, instead of the shared GPT's (30, 120 or 800)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the tokenizer file and the chart"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Tokens (词元): a byte-pair-encoding tokenizer learned from the poems (and\n"
                     "English text), tokens per character and per line, round trips, and the tiny\n"
                     "GPT trained on BPE tokens vs on characters at the same budget.",
                     opts, nopt);
    printf("chapter 6: token (词元) — byte-pair encoding\n");
    printf("seed %llu\n", (unsigned long long)seed);

    /* chapter 6's shared poem GPT (ch06_quick_gpt.h); the vocabulary is filled in per model */
    ch06_level level = ch06_level_of(quick, full);
    gpt_settings st = ch06_settings(level, 0);
    if (nn_option_given(opts, nopt, "--steps")) st.steps = steps;
    if (quick && !nn_option_given(opts, nopt, "--merges")) merges = 300;

    poems po;
    if (poems_open(&po, file, titles, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    poems_describe(&po, titles);
    const char *text = po.corpus->text;
    size_t len = po.corpus->bytes;
    const char *name = po.tang ? (titles ? "tang300 (titles kept)" : "tang300") : po.source;

    /* ---- 1. tokens per character, per line ------------------------------------------------ */
    printf("\n1. BPE: merge the most frequent neighbouring pair, again and again "
           "(never across a line break)\n");
    static const int steps_list[] = {0, 100, 300, 1000, 3000, -1};
    int nm = NN_COUNTOF(steps_list);
    int max_ids = tokenizer_table(name, text, len, steps_list, nm), max_ids_en = 0;
    if (max_ids < 0) return poems_close(&po), 1;
    nn_corpus *en = file ? NULL : nn_fortunes_load(ENGLISH_FORTUNES, NULL);
    if (file) {
        /* FILE is the corpus (English or not): no second text */
    } else if (en) {
        max_ids_en = tokenizer_table("English (" ENGLISH_FORTUNES ")", en->text, en->bytes,
                                     steps_list, nm);
        if (max_ids_en < 0) return nn_corpus_free(en), poems_close(&po), 1;
    } else {
        printf("\nNOTE: no English text: %s\n      (apt-get install fortunes for the English "
               "sayings; or pass any UTF-8 FILE)\n", nn_last_error());
    }
    if (po.tang)
        printf("(Chinese characters are already words or half-words: merges shorten the text a "
               "little%s)\n", en ? ";\n English letters are not: there BPE cuts the length to a "
               "half or a third" : "");

    /* ---- 2. the tokenizer of the GPT: trained on the training text only ------------------- */
    size_t cut = char_offset(text, len, po.train.n);
    const char *val_text = text + cut;
    size_t val_len = len - cut;
    nn_vocab *abc = nn_vocab_build(text, cut, 0);
    if (!abc) return nn_corpus_free(en), poems_close(&po), fprintf(stderr, "%s\n", nn_last_error()), 1;
    int A = abc->size;
    nn_vocab_free(abc);
    nn_bpe *bpe = nn_bpe_train(text, cut, A + merges);
    if (!bpe) return nn_corpus_free(en), poems_close(&po), fprintf(stderr, "%s\n", nn_last_error()), 1;
    printf("\n2. the GPT's tokenizer: learned from the training text only (%d characters): "
           "%d ids = %d characters + <unk> + %d merges\n   the first merges (left + right -> "
           "token, times seen):\n", po.train.n, bpe->size, A - 1, bpe->n_merges);
    for (int k = 0; k < 12 && k < bpe->n_merges; k++) {
        const nn_bpe_merge *mg = &bpe->merges[k];
        printf("   %2d. ", k + 1);
        show_token(bpe, mg->left);
        printf(" + ");
        show_token(bpe, mg->right);
        printf(" -> ");
        show_token(bpe, A + k);
        printf("  (%llu)%s", (unsigned long long)mg->count, k % 3 == 2 ? "\n" : "   ");
    }
    if (bpe->n_merges % 3 != 0 && bpe->n_merges < 12) printf("\n");
    /* a line of the held-out text (the first whole one of 4 characters or more), cut into tokens */
    size_t ls = 0, le = 0;
    while (ls < val_len && val_text[ls] != '\n') ls++; /* skip the (maybe cut) first line */
    for (ls = ls < val_len ? ls + 1 : 0;; ls = le + 1) {
        le = ls;
        while (le < val_len && val_text[le] != '\n') le++;
        if (utf8_chars(val_text + ls, le - ls) >= 4 || le >= val_len) break;
    }
    int nline, *line = bpe_ids(bpe, val_text + ls, le - ls, &nline);
    if (!line) return nn_bpe_free(bpe), nn_corpus_free(en), poems_close(&po), 1;
    printf("   a held-out line, %d characters -> %d tokens: ", utf8_chars(val_text + ls, le - ls),
           nline);
    for (int i = 0; i < nline; i++) {
        printf(i ? "|" : "");
        show_token(bpe, line[i]);
    }
    printf("\n");
    free(line);

    /* ---- 3. round trips -------------------------------------------------------------------- */
    int failed = 0;
    nn_bpe *whole = nn_bpe_train(text, len, max_ids);   /* every merge the corpus allows */
    int nw, *wids = whole ? bpe_ids(whole, text, len, &nw) : NULL;
    bool trip_whole = false;
    if (wids) {
        int need = nn_bpe_decode(whole, wids, nw, NULL, 0);
        char *back = malloc((size_t)need + 1);
        nn_bpe_decode(whole, wids, nw, back, (size_t)need + 1);
        trip_whole = (size_t)need == len && memcmp(back, text, len) == 0;
        free(back);
    }
    printf("\n3. round trips:\n   the whole corpus, %d ids (every merge): %d characters -> %d "
           "tokens -> decoded: %s\n", max_ids, po.n, wids ? nw : -1,
           trip_whole ? "the same bytes" : "DIFFERENT");
    failed += !trip_whole;
    free(wids);
    nn_bpe_free(whole);

    int nv, *vids = bpe_ids(bpe, val_text, val_len, &nv), unk = 0;
    if (!vids) return nn_bpe_free(bpe), nn_corpus_free(en), poems_close(&po), 1;
    for (int i = 0; i < nv; i++) unk += vids[i] == NN_VOCAB_UNK;
    int need = nn_bpe_decode(bpe, vids, nv, NULL, 0);
    char *back = malloc((size_t)need + 1);
    nn_bpe_decode(bpe, vids, nv, back, (size_t)need + 1);
    bool trip_val = (size_t)need == val_len && memcmp(back, val_text, val_len) == 0;
    free(back);
    printf("   the held-out text with the GPT's tokenizer: %s (%d of its characters are not in "
           "the training text: <unk>, written back as U+FFFD)\n",
           trip_val ? "the same bytes" : unk ? "the same but for those" : "DIFFERENT", unk);
    failed += !trip_val && !unk;
    char path[4096];
    bool reloaded = false;
    if (!nn_out_path(path, sizeof path, out_dir, "ch06_tokens.nnbp") || nn_bpe_save(bpe, path) != 0) {
        fprintf(stderr, "cannot save the tokenizer: %s\n", nn_last_error());
        failed++;
    } else {
        nn_bpe *loaded = nn_bpe_load(path);
        int nl2 = -1, *ids2 = loaded ? bpe_ids(loaded, val_text, val_len, &nl2) : NULL;
        reloaded = ids2 && nl2 == nv && memcmp(ids2, vids, sizeof(int) * (size_t)nv) == 0;
        printf("   wrote %s; loaded back, it encodes the held-out text to %s\n", path,
               reloaded ? "the same ids" : "OTHER ids");
        failed += !reloaded;
        free(ids2);
        nn_bpe_free(loaded);
    }

    /* ---- 4. the tiny GPT on characters vs on BPE tokens ----------------------------------- */
    static token_model m[2];
    m[0].name = "chars", m[1].name = "bpe";
    m[0].V = bpe->chars->size, m[1].V = bpe->size;
    m[0].n_train = nn_vocab_encode(bpe->chars, text, cut, NULL, 0);
    m[0].n_val = nn_vocab_encode(bpe->chars, val_text, val_len, NULL, 0);
    m[0].train = malloc(sizeof(int) * (size_t)m[0].n_train);
    m[0].val = malloc(sizeof(int) * (size_t)m[0].n_val);
    nn_vocab_encode(bpe->chars, text, cut, m[0].train, (size_t)m[0].n_train);
    nn_vocab_encode(bpe->chars, val_text, val_len, m[0].val, (size_t)m[0].n_val);
    m[0].val_chars = m[0].n_val - 1;
    m[1].train = bpe_ids(bpe, text, cut, &m[1].n_train);
    m[1].val = vids, m[1].n_val = nv;
    m[1].val_chars = utf8_chars(val_text, val_len) - token_chars(bpe, vids[0]);
    int ctx = st.cfg.context;
    if (ctx > m[1].n_val - 1) st.cfg.context = ctx = m[1].n_val - 1; /* a tiny FILE */
    char why[256];
    st.cfg.vocab = m[1].V;
    if (nn_gpt_config_check(&st.cfg, why, sizeof why) != 0) {
        fprintf(stderr, "tokens: %s\n", why);
        failed = -1;
    }
    double cpt_train = (double)m[0].n_train / m[1].n_train;
    printf("\n4. the tiny GPT at the same budget: C %d, %d heads, %d block%s, windows of T = %d "
           "ids, batch %d, up to %d steps,\n   AdamW lr %g; the same seed. Training text: %d characters "
           "= %d BPE tokens (%.2f characters per token),\n   so a window of %d BPE tokens holds "
           "about %.0f characters; held-out text: %d characters = %d tokens\n", st.cfg.dim,
           st.cfg.heads, st.cfg.layers, st.cfg.layers > 1 ? "s" : "", ctx, st.B, st.steps,
           st.lr > 0 ? st.lr : GPT_LR, m[0].n_train, m[1].n_train, cpt_train, ctx, ctx * cpt_train, m[0].n_val, nv);
    for (int k = 0; failed >= 0 && k < 2; k++)
        if (train_model(&m[k], &st, quick, seed) != 0) {
            fprintf(stderr, "tokens: %s\n", nn_last_error());
            failed = -1;
        }
    if (failed >= 0) {
        printf("\n   held-out loss         %-12s %-12s\n", "characters", "BPE tokens");
        printf("   nats per token        %-12.3f %-12.3f\n", m[0].per_token, m[1].per_token);
        printf("   nats per character    %-12.3f %-12.3f   <- these compare\n", m[0].per_char,
               m[1].per_char);
        printf("   bigram, per character %-12.3f %-12.3f   (counted, interpolated)\n",
               m[0].bigram_per_char, m[1].bigram_per_char);
        printf("   nats per character = mean loss per token x %d (or %d) predicted tokens / %d "
               "(or %d) characters they hold\n", m[0].n_val - 1, m[1].n_val - 1, m[0].val_chars,
               m[1].val_chars);
        printf("   BPE minus characters: %+.3f nats per character (%+.1f%%); a BPE step costs %.2fx "
               "the time (V %d vs %d at the output layer)\n", m[1].per_char - m[0].per_char,
               100 * (m[1].per_char - m[0].per_char) / m[0].per_char,
               m[1].run.ms_per_step / m[0].run.ms_per_step, m[1].V, m[0].V);
        nn_series s[2] = {
            {"characters", m[0].run.curve.step, m[0].curve_per_char, m[0].run.curve.n, NN_PLOT_LINE},
            {"BPE tokens", m[1].run.curve.step, m[1].curve_per_char, m[1].run.curve.n, NN_PLOT_LINE},
        };
        if (nn_plot_svg_in(out_dir, "ch06_tokens_loss.svg",
                           "Held-out loss per character: characters vs BPE tokens", "step",
                           "nats per character", s, 2) != 0) {
            fprintf(stderr, "cannot write the chart: %s\n", nn_last_error());
            failed++;
        }
        printf("result: corpus=%s chars=%d alphabet=%d max_ids=%d max_ids_en=%d merges=%d V_bpe=%d "
               "chars_per_token=%.3f roundtrip=%s reload=%s steps=%d dim=%d layers=%d context=%d "
               "params_chars=%zu params_bpe=%zu val_nats_per_char_chars=%.3f "
               "val_nats_per_char_bpe=%.3f val_nats_per_token_bpe=%.3f best_step_chars=%d "
               "best_step_bpe=%d\n",
               po.tang ? "tang300" : file ? "file" : "synthetic", po.n, A, max_ids, max_ids_en,
               bpe->n_merges, bpe->size, cpt_train, trip_whole ? "ok" : "FAILED",
               reloaded ? "ok" : "FAILED", st.steps, st.cfg.dim, st.cfg.layers, ctx,
               m[0].run.gpt->model->count, m[1].run.gpt->model->count, m[0].per_char,
               m[1].per_char, m[1].per_token, m[0].run.best_step, m[1].run.best_step);
    }
    for (int k = 0; k < 2; k++) {
        nn_gpt_free(m[k].run.gpt);
        free(m[k].train);
    }
    free(m[0].val);
    free(vids);
    nn_bpe_free(bpe);
    nn_corpus_free(en);
    poems_close(&po);
    nn_graph_release();
    return failed != 0;
}
