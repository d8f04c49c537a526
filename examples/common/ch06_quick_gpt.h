/* examples/common/ch06_quick_gpt.h — the poem GPT that chapter 6's glossary demos use: trained
 * on the spot in seconds (or read from a saved folder), the same in every demo, so that the
 * figures of one program can be read beside another's.
 *   ch06_settings     the sizes and the training budget of --quick, the default and --full
 *   ch06_gpt_get      train it (gpt_train from gpt_train.h), or load a folder nn_gpt_save
 *                     wrote (tiny_gpt's out/gpt) when its vocabulary is the corpus's
 *   ch06_describe     one line: the sizes, the parameters and the losses
 *   ch06_open         the corpus and that GPT, both described: a demo's first lines
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_CH06_QUICK_GPT_H
#define EXAMPLES_COMMON_CH06_QUICK_GPT_H

#include "gpt_train.h"

#define CH06_FN static __attribute__((unused))

#define CH06_QUICK_TEXT 4000   /* characters --quick trains on */

typedef enum ch06_level { CH06_QUICK, CH06_DEFAULT, CH06_FULL } ch06_level;

CH06_FN ch06_level ch06_level_of(bool quick, bool full) {
    return quick ? CH06_QUICK : full ? CH06_FULL : CH06_DEFAULT;
}

/* The model and its training, V filled in by the caller:
 *   --quick   C 16, 2 heads, 1 block, T 16, B 8, 30 steps (the smoke tests: about a second)
 *   default   C 64, 4 heads, 2 blocks, T 32 (chapter 5's default model), B 16, 120 steps at
 *             lr 3e-3: a model of seconds, about as good as a bigram count (val ~5.9 nats)
 *   --full    the same model, T 64, B 16, up to 800 steps at lr 2e-3 with early stopping
 *             (about three minutes on 2 cores)
 * The vocabulary (V ~ 2500 characters) makes the head (C x V) most of the cost of a step,
 * which is why "seconds" buys little more than the bigram statistics. */
CH06_FN gpt_settings ch06_settings(ch06_level level, int V) {
    gpt_settings s = {.cfg = {.vocab = V, .dim = 64, .heads = 4, .layers = 2, .context = 32},
                      .B = 16, .steps = 120, .eval_every = 60, .patience = 4, .lr = 3e-3f,
                      .label = "gpt"};
    if (level == CH06_QUICK) {
        s.cfg.dim = 16, s.cfg.heads = 2, s.cfg.layers = 1, s.cfg.context = 16;
        s.B = 8, s.steps = 30, s.eval_every = 30;
    } else if (level == CH06_FULL) {
        s.cfg.context = 64;
        s.steps = 800, s.eval_every = 100, s.patience = 3, s.lr = 2e-3f;
    }
    return s;
}

/* Same characters with the same ids? (A saved model is only usable on the text whose
 * vocabulary it was trained with.) */
CH06_FN bool ch06_same_vocab(const nn_vocab *a, const nn_vocab *b) {
    if (a->size != b->size) return false;
    for (int i = 1; i < a->size; i++)
        if (a->chars[i] != b->chars[i]) return false;
    return true;
}

typedef struct ch06_gpt {
    nn_gpt *gpt;
    bool loaded;          /* read from a folder, not trained here */
    double train, val;    /* gpt_span_loss of the split (nats per character) */
    int steps;            /* training steps run (0 when loaded) */
    double seconds;       /* training (or loading) time */
} ch06_gpt;

/* Train the model of `level` on po's split, or (model_dir not NULL) load the one saved in
 * model_dir, refusing it when its vocabulary is not po's. 0, or 1 after a message. */
CH06_FN int ch06_gpt_get(ch06_gpt *m, const poems *po, ch06_level level, const char *model_dir,
                         uint64_t seed) {
    memset(m, 0, sizeof *m);
    double t0 = nn_seconds();
    if (model_dir) {
        nn_vocab *v = NULL;
        m->gpt = nn_gpt_load(model_dir, &v);
        if (!m->gpt) return fprintf(stderr, "cannot load %s: %s\n", model_dir, nn_last_error()), 1;
        bool same = ch06_same_vocab(v, po->vocab);
        nn_vocab_free(v);
        if (!same) {
            fprintf(stderr, "%s was trained on another text (its vocabulary differs from this "
                    "corpus's)\n", model_dir);
            nn_gpt_free(m->gpt), m->gpt = NULL;
            return 1;
        }
        m->loaded = true;
        m->train = gpt_span_loss(m->gpt, po->train);
        m->val = gpt_span_loss(m->gpt, po->val);
    } else {
        gpt_settings st = ch06_settings(level, po->vocab->size);
        if (st.cfg.context > po->val.n - 1) st.cfg.context = po->val.n - 1;
        /* --quick draws 30 x 8 windows of 16: the first CH06_QUICK_TEXT characters are as
         * good as all, and gpt_train's final loss over the training span costs less, which
         * matters under valgrind */
        nn_token_span tr = po->train;
        if (level == CH06_QUICK && tr.n > CH06_QUICK_TEXT) {
            tr.n = CH06_QUICK_TEXT;
            printf("(--quick: training on the first %d characters of the training text)\n",
                   tr.n);
        }
        static gpt_run r;   /* static: its curves are large for the stack */
        if (gpt_train(&r, &st, tr, po->val, seed) != 0)
            return fprintf(stderr, "cannot train: %s\n", nn_last_error()), 1;
        m->gpt = r.gpt, m->train = r.train, m->val = r.val, m->steps = r.steps;
    }
    m->seconds = nn_seconds() - t0;
    return 0;
}

CH06_FN void ch06_describe(const ch06_gpt *m, const char *model_dir) {
    const nn_gpt_config *c = &m->gpt->cfg;
    printf("model: %s, C %d, %d heads, %d block%s, context T = %d, V = %d: %zu parameters; "
           "loss train %.3f, validation %.3f nats/char\n",
           m->loaded && model_dir ? model_dir : "a GPT trained here", c->dim, c->heads, c->layers,
           c->layers > 1 ? "s" : "", c->context, c->vocab, m->gpt->model->count, m->train, m->val);
    if (m->loaded) printf("  (loaded in %.1f s)\n", m->seconds);
    else printf("  (%d steps in %.1f s)\n", m->steps, m->seconds);
}

/* What most demos start with: the corpus (tang300, titles kept or not; a synthetic one
 * without it), then the chapter's GPT for `level`, trained here or loaded from model_dir,
 * each described. 0, or 1 after a message (nothing left open). */
CH06_FN int ch06_open(poems *po, ch06_gpt *m, bool titles, ch06_level level,
                      const char *model_dir, uint64_t seed) {
    if (poems_open(po, NULL, titles, level == CH06_QUICK ? 150 : 500, seed) != 0) {
        poems_close(po);
        return 1;
    }
    poems_describe(po, titles);
    if (ch06_gpt_get(m, po, level, model_dir, seed) != 0) {
        poems_close(po);
        return 1;
    }
    ch06_describe(m, model_dir);
    return 0;
}

#endif
