/* examples/common/addition.h — multi-digit addition as a toy language task for a GPT, shared
 * by chapter 6's chain-of-thought demo (思维链) and its scaling demo (涌现 / 大模型):
 *
 *   add_text          one problem written out in one of three formats (below)
 *   add_is_held_out   the held-out problems: a fixed tenth of all pairs, never trained on
 *   add_train         a GPT trained on freshly drawn problems, loss on the answer part only
 *   add_val_loss      that loss on held-out problems (teacher forcing)
 *   add_evaluate      greedy decoding on held-out problems: exact match and per-digit accuracy
 *
 * Every operand is written with D digits, padded with leading zeros, and every answer with
 * D + 1 (the sum of two D-digit numbers has at most D + 1 digits): each format then has one
 * length, the digits of one place always sit at the same positions, and a batch needs no
 * padding. (Without padding the model would also have to work out from the lengths which
 * digits line up: a different, harder lesson.) For D = 3, 45 + 989:
 *
 *   ADD_DIRECT    "045+989=1034\n"         the answer at once, most significant digit first,
 *                                          as people write it: its first digit depends on
 *                                          every carry, worked out in no written step
 *   ADD_REVERSED  "045+989=4301\n"         the answer least significant digit first: each
 *                                          digit depends on its two digits and one carry
 *   ADD_COT       "045+989=5+9+0=14,4+8+1=13,0+9+1=10|1034\n"
 *                 思维链 (chain of thought): the places from the right, each "a+b+c=ss" with
 *                 the two digits of the place, the carry c coming in (the tens digit of the
 *                 step before; 0 first) and the two-digit sum; then '|' and the answer,
 *                 whose digits are the steps' ones digits read backwards, after the last
 *                 carry. Every token written is a copy or a sum of three digits in view.
 *
 * The loss counts the tokens after '=' (the answer, the scratchpad, the line end): the
 * operands are random, there is nothing to learn in them.
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_ADDITION_H
#define EXAMPLES_COMMON_ADDITION_H

#include <nn.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADD_FN static __attribute__((unused))

#define ADD_ALPHABET "0123456789+=,|\n"   /* token id = position in this string */
#define ADD_VOCAB 15
#define ADD_MAX_DIGITS 6
#define ADD_MAX_LEN (2 * ADD_MAX_DIGITS + 2 + 9 * ADD_MAX_DIGITS + ADD_MAX_DIGITS + 2)

typedef enum add_format { ADD_DIRECT, ADD_REVERSED, ADD_COT } add_format;

ADD_FN const char *add_format_name(add_format f) {
    return f == ADD_DIRECT ? "direct" : f == ADD_REVERSED ? "reversed" : "chain of thought";
}

ADD_FN long add_pow10(int d) {
    long p = 1;
    while (d-- > 0) p *= 10;
    return p;
}

/* The prompt "aaa+bbb=" has 2 D + 2 characters, the whole line add_length. */
ADD_FN int add_prompt_length(int D) { return 2 * D + 2; }
ADD_FN int add_length(int D, add_format f) {
    return add_prompt_length(D) + (f == ADD_COT ? 9 * D : 0) + D + 1 + 1;
}

/* Write problem a + b (0 <= a, b < 10^D) in format f into s (add_length + 1 chars with the
 * terminating 0); returns the length. */
ADD_FN int add_text(char *s, long a, long b, int D, add_format f) {
    int n = 0, carry = 0;
    long sum = a + b;
    n += sprintf(s + n, "%0*ld+%0*ld=", D, a, D, b);
    if (f == ADD_COT) {
        long x = a, y = b;
        for (int i = 0; i < D; i++, x /= 10, y /= 10) {
            int da = (int)(x % 10), db = (int)(y % 10), t = da + db + carry;
            n += sprintf(s + n, "%d+%d+%d=%02d%c", da, db, carry, t, i + 1 < D ? ',' : '|');
            carry = t / 10;
        }
    }
    if (f == ADD_REVERSED)
        for (int i = 0; i <= D; i++, sum /= 10) s[n++] = (char)('0' + sum % 10);
    else n += sprintf(s + n, "%0*ld", D + 1, sum);
    s[n++] = '\n';
    s[n] = 0;
    return n;
}

ADD_FN int add_id(char c) {
    const char *p = strchr(ADD_ALPHABET, c);
    return p && c ? (int)(p - ADD_ALPHABET) : -1;
}

/* Held out: a pair (a, b) whose hash falls in a fixed tenth. The training problems are drawn
 * from the other nine tenths, so no test problem is ever trained on (nor b + a for a + b:
 * that would be half of one). */
ADD_FN bool add_is_held_out(long a, long b) {
    long lo = a < b ? a : b, hi = a < b ? b : a;
    uint64_t h = (uint64_t)lo * 0x9E3779B97F4A7C15ull ^ (uint64_t)hi * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29, h *= 0xBF58476D1CE4E5B9ull, h ^= h >> 32;
    return h % 10 == 0;
}

/* A random pair from the training part (held_out false) or the held-out part (true). */
ADD_FN void add_draw(nn_rng *rng, int D, bool held_out, long *a, long *b) {
    int top = (int)add_pow10(D);
    do {
        *a = nn_rng_int(rng, top), *b = nn_rng_int(rng, top);
    } while (add_is_held_out(*a, *b) != held_out);
}

/* n distinct held-out pairs (fewer when fewer exist), drawn with a generator of their own,
 * so that every model of a program is tested on the same problems. Returns the number. */
ADD_FN int add_test_set(int D, int n, uint64_t seed, long *a, long *b) {
    nn_rng rng;
    nn_rng_seed(&rng, seed ^ 0x7E57ull);
    long top = add_pow10(D), got = 0;
    if (top * top <= 100000) {   /* few pairs: a random n of the held-out ones (reservoir) */
        for (long x = 0; x < top; x++)
            for (long y = 0; y < top; y++)
                if (add_is_held_out(x, y)) {
                    long j = got < n ? got : nn_rng_int(&rng, (int)got + 1);   /* reservoir */
                    if (j < n) a[j] = x, b[j] = y;
                    got++;
                }
        return got < n ? (int)got : n;
    }
    while (got < n) {            /* many (n far below their number): draw, skip repeats */
        long x, y;
        add_draw(&rng, D, true, &x, &y);
        bool dup = false;
        for (long i = 0; i < got && !dup; i++) dup = a[i] == x && b[i] == y;
        if (!dup) a[got] = x, b[got] = y, got++;
    }
    return n;
}

/* ---- the batch and its loss ------------------------------------------------------------- */

/* B problems as token rows: x = line[0 .. L-1), y = line[1 .. L) (the next tokens), L the
 * format's length. `w` (B, L-1, V), owned, gets 1/count at (row, t, y) for every target
 * after the prompt (t >= P - 1) and 0 elsewhere. */
ADD_FN void add_batch(const long *a, const long *b, int B, int D, add_format f, int *x, int *y,
                      nn_tensor *w) {
    int L = add_length(D, f), T = L - 1, P = add_prompt_length(D), V = ADD_VOCAB;
    char s[ADD_MAX_LEN + 1];
    memset(w->data, 0, sizeof(float) * (size_t)B * T * V);
    float share = 1.0f / (float)(B * (L - P));
    for (int r = 0; r < B; r++) {
        add_text(s, a[r], b[r], D, f);
        for (int t = 0; t < T; t++) {
            x[r * T + t] = add_id(s[t]);
            y[r * T + t] = add_id(s[t + 1]);
            if (t >= P - 1) w->data[((size_t)r * T + t) * V + y[r * T + t]] = share;
        }
    }
}

/* The mean cross-entropy over the answer tokens only:
 *   loss = - sum_{r, t >= P-1} log softmax(logits[r, t])[y[r, t]] / (B (L - P))
 * as - sum(log_softmax(logits) * w), w the weights add_batch wrote (a one-hot per scored
 * target, 0 on the prompt): the gradient of each scored position is chapter 4's
 * softmax - onehot, scaled, and 0 on the prompt's. */
ADD_FN nn_tensor *add_loss(nn_tensor *logits, nn_tensor *w) {
    return nn_neg(nn_sum(nn_mul(nn_log_softmax(logits), w)));   /* scalar */
}

/* ---- testing ------------------------------------------------------------------------------- */

typedef struct add_score {
    int problems, exact;     /* answers entirely right */
    long digits, digits_ok;  /* answer digits, and those right at their place */
    int well_formed;         /* completions of the format's length (the line end in its place) */
    char example[2][ADD_MAX_LEN + 1];   /* one right and one wrong completion ("" if none) */
} add_score;

/* The answer's D + 1 digits in a completion c (what follows '='), most significant first,
 * into ans; false when they are not there. Direct: the first D + 1 characters; reversed:
 * the same, turned around; chain of thought: those after the first '|'. */
ADD_FN bool add_answer(const char *c, int D, add_format f, char *ans) {
    const char *p = c;
    if (f == ADD_COT) {
        p = strchr(c, '|');
        if (!p) return false;
        p++;
    }
    for (int i = 0; i <= D; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    for (int i = 0; i <= D; i++) ans[i] = f == ADD_REVERSED ? p[D - i] : p[i];
    ans[D + 1] = 0;
    return true;
}

/* Greedy decoding (always the most likely token) of the n problems a[], b[], GROUP at a
 * time with the KV cache: the model reads "aaa+bbb=" and writes the rest of the line itself,
 * its own scratchpad included (no teacher forcing). The answer is scored whole (exact
 * match) and digit by digit (per-digit accuracy: Schaeffer et al.'s point that a smooth
 * metric can rise smoothly where exact match seems to jump). */
ADD_FN add_score add_evaluate(nn_gpt *g, int D, add_format f, const long *a, const long *b,
                              int n) {
    enum { GROUP = 64 };
    add_score sc;
    memset(&sc, 0, sizeof sc);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    int P = add_prompt_length(D), L = add_length(D, f), V = ADD_VOCAB, W = L - P;
    nn_gpt_cache *cache = nn_gpt_cache_new(g, GROUP);
    int *ids = malloc(sizeof(int) * GROUP * (size_t)P), next[GROUP];
    char (*out)[ADD_MAX_LEN + 1] = malloc(sizeof *out * GROUP);
    char s[ADD_MAX_LEN + 1], truth[ADD_MAX_DIGITS + 2], ans[ADD_MAX_DIGITS + 2];
    for (int i0 = 0; i0 < n; i0 += GROUP) {
        int rows = n - i0 < GROUP ? n - i0 : GROUP;
        nn_gpt_cache *c = cache;
        if (rows != GROUP) c = nn_gpt_cache_new(g, rows);
        nn_gpt_cache_reset(c);
        for (int r = 0; r < rows; r++) {
            add_text(s, a[i0 + r], b[i0 + r], D, f);
            for (int t = 0; t < P; t++) ids[r * P + t] = add_id(s[t]);
        }
        nn_tensor *logits = nn_gpt_forward_cached(g, c, ids, rows, P);    /* (rows, P, V) */
        const float *last = logits->data;
        int stride = P * V, at = P - 1;
        for (int k = 0; k < W; k++) {
            for (int r = 0; r < rows; r++) {
                const float *row = last + (size_t)r * stride + (size_t)at * V;
                int best = 0;
                for (int v = 1; v < V; v++)
                    if (row[v] > row[best]) best = v;
                next[r] = best;
                out[r][k] = ADD_ALPHABET[best];
            }
            if (k + 1 < W) {
                logits = nn_gpt_forward_cached(g, c, next, rows, 1);     /* (rows, 1, V) */
                last = logits->data, stride = V, at = 0;
            }
        }
        for (int r = 0; r < rows; r++) {
            out[r][W] = 0;
            char *nl = strchr(out[r], '\n');
            if (nl) *nl = 0;     /* the completion up to its line end */
            add_text(s, a[i0 + r], b[i0 + r], D, f);
            s[L - 1] = 0;
            add_answer(s + P, D, f, truth);
            bool ok = add_answer(out[r], D, f, ans), exact = ok && strcmp(ans, truth) == 0;
            sc.well_formed += strlen(out[r]) == (size_t)(W - 1);
            sc.problems++, sc.exact += exact;
            sc.digits += D + 1;
            for (int i = 0; ok && i <= D; i++) sc.digits_ok += ans[i] == truth[i];
            char *ex = sc.example[exact ? 0 : 1];
            if (!ex[0]) snprintf(ex, sizeof sc.example[0], "%.*s%s", P, s, out[r]);
        }
        if (c != cache) nn_gpt_cache_free(c);
        nn_graph_clear();
    }
    free(ids), free(out);
    nn_gpt_cache_free(cache);
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    return sc;
}

/* ---- training ------------------------------------------------------------------------------ */

typedef struct add_settings {
    nn_gpt_config cfg;    /* vocab filled in by add_train, context raised to the format's */
    int D;                /* digits per operand */
    add_format format;
    int steps, B;         /* the budget: steps x B problems */
    float lr;             /* peak learning rate (AdamW; warm-up, then cosine to lr / 10) */
    const char *label;    /* for the progress bar */
    int eval_every;       /* > 0: exact match on `curve_n` held-out problems every so often */
    const long *curve_a, *curve_b;
    int curve_n;
} add_settings;

#define ADD_MAX_POINTS 64

typedef struct add_run {
    nn_gpt *gpt;
    double seconds;       /* training time */
    double final_loss;    /* the mean training loss of the last tenth of the steps */
    long tokens;          /* tokens read in training: steps x B x (L - 1) */
    int points;           /* the curve: exact match after step[i] */
    float step[ADD_MAX_POINTS], exact[ADD_MAX_POINTS];
} add_run;

/* Train a GPT on steps x B freshly drawn training problems. 0, or -1 with nn_last_error(). */
ADD_FN int add_train(add_run *r, const add_settings *st, uint64_t seed) {
    memset(r, 0, sizeof *r);
    nn_gpt_config cfg = st->cfg;
    int L = add_length(st->D, st->format), T = L - 1, B = st->B;
    cfg.vocab = ADD_VOCAB;
    if (cfg.context < T) cfg.context = T;   /* a longer one (another format's) is fine */
    nn_seed(seed);
    r->gpt = nn_gpt_new(&cfg);
    if (!r->gpt) return -1;
    nn_model *m = r->gpt->model;
    nn_optim *opt = nn_adamw_new(m, st->lr, 0.01f);
    int *x = malloc(sizeof(int) * (size_t)B * T), *y = malloc(sizeof(int) * (size_t)B * T);
    long *a = malloc(sizeof(long) * (size_t)B), *b = malloc(sizeof(long) * (size_t)B);
    nn_tensor *w = nn_zeros(NN_SHAPE(B, T, ADD_VOCAB));
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1);
    int warm = st->steps / 20 > 0 ? st->steps / 20 : 1;
    int tail = st->steps / 10 > 0 ? st->steps / 10 : 1;
    double tail_sum = 0.0;
    nn_progress bar;
    fflush(stdout);
    nn_progress_start(&bar, st->label ? st->label : "gpt", st->steps);
    double t0 = nn_seconds();
    for (int step = 0; step < st->steps; step++) {
        /* warm-up for the first 5%, then cosine down to a tenth: small models on exact
         * tasks settle much better when the steps shrink at the end */
        int rest = st->steps - warm > 0 ? st->steps - warm : 1;
        float progress = (float)(step - warm) / (float)rest, pi = 3.14159265f;
        opt->lr = step < warm ? st->lr * (step + 1) / warm
                              : st->lr * (0.1f + 0.45f * (1.0f + cosf(pi * progress)));
        for (int i = 0; i < B; i++) add_draw(&rng, st->D, false, &a[i], &b[i]);
        add_batch(a, b, B, st->D, st->format, x, y, w);
        nn_tensor *loss = add_loss(nn_gpt_forward(r->gpt, x, B, T), w);
        float l = nn_item(loss);
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_clip_grad_norm(m, 1.0f);
        nn_optim_step(opt);
        nn_graph_clear();
        if (step >= st->steps - tail) tail_sum += l;
        nn_progress_update(&bar, step + 1, "loss %.3f", l);
        if (st->eval_every > 0 && ((step + 1) % st->eval_every == 0 || step + 1 == st->steps) &&
            r->points < ADD_MAX_POINTS) {
            double e0 = nn_seconds();   /* not training time */
            add_score sc = add_evaluate(r->gpt, st->D, st->format, st->curve_a, st->curve_b,
                                        st->curve_n);
            r->step[r->points] = (float)(step + 1);
            r->exact[r->points++] = (float)sc.exact / (float)(sc.problems > 0 ? sc.problems : 1);
            t0 += nn_seconds() - e0;
        }
    }
    r->seconds = nn_seconds() - t0;
    nn_progress_finish(&bar);
    r->final_loss = tail_sum / tail;
    r->tokens = (long)st->steps * B * T;
    free(x), free(y), free(a), free(b);
    nn_tensor_free(w);
    nn_optim_free(opt);
    return 0;
}

/* add_loss on the n held-out problems a[], b[] (teacher forcing: the true tokens are read),
 * in nats per answer token, without the tape. */
ADD_FN double add_val_loss(nn_gpt *g, int D, add_format f, const long *a, const long *b, int n) {
    enum { GROUP = 64 };
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    int T = add_length(D, f) - 1;
    int *x = malloc(sizeof(int) * GROUP * (size_t)T), *y = malloc(sizeof(int) * GROUP * (size_t)T);
    nn_tensor *w = nn_zeros(NN_SHAPE(GROUP, T, ADD_VOCAB));
    double total = 0.0;
    for (int i = 0; i < n; i += GROUP) {
        int rows = n - i < GROUP ? n - i : GROUP;
        nn_tensor *wr = rows == GROUP ? w : nn_zeros(NN_SHAPE(rows, T, ADD_VOCAB));
        add_batch(a + i, b + i, rows, D, f, x, y, wr);
        total += nn_item(add_loss(nn_gpt_forward(g, x, rows, T), wr)) * rows;
        if (wr != w) nn_tensor_free(wr);
        nn_graph_clear();
    }
    free(x), free(y);
    nn_tensor_free(w);
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    return total / n;
}

#endif
