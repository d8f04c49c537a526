/* src/data/text_batch.c — (input, target) batches of ids for a next-character model
 * (include/nn/data/text_batch.h): a split by position, random windows, sequential chunks.
 *
 * A window of T + 1 ids gives T training pairs at once: input ids[s + t], target ids[s + t + 1]
 * for t = 0 .. T-1 (床前明月光: 床->前, 前->明, 明->月, 月->光). Random windows suit a model
 * that starts each window from a zero state; sequential chunks suit an RNN that carries its
 * state on, which needs row b of each batch to continue row b of the last one.
 */
#include "internal.h"
#include "nn/data/text_batch.h"

int nn_text_split(const int *ids, int n, double val_fraction, nn_token_span *train,
                  nn_token_span *val) {
    const char *op = "nn_text_split";
    if (!ids || !train || !val) {
        nn_fail(op, "pass the ids and two spans to fill", "%s is NULL",
                !ids ? "ids" : !train ? "train" : "val");
        return -1;
    }
    if (n < 4 || !(val_fraction > 0 && val_fraction < 1)) {
        nn_fail(op, "each part needs at least 2 ids (one input and its target): n >= 4, and "
                "0 < val_fraction < 1, e.g. 0.1", "n = %d, val_fraction = %g", n, val_fraction);
        return -1;
    }
    double want = floor(val_fraction * n + 0.5);
    int n_val = want < 2 ? 2 : want > n - 2 ? n - 2 : (int)want;
    *train = (nn_token_span){ids, n - n_val};
    *val = (nn_token_span){ids + (n - n_val), n_val};
    return 0;
}

/* B >= 1, T >= 1, ids and the two arrays given. 0, or -1 after nn_fail. */
static int check_batch(const char *op, const int *ids, int B, int T, const int *inputs,
                       const int *targets) {
    if (!ids || !inputs || !targets) {
        nn_fail(op, "pass the ids and two arrays of B * T ints for inputs and targets",
                "%s is NULL", !ids ? "ids" : !inputs ? "inputs" : "targets");
        return -1;
    }
    if (B < 1 || T < 1 || B > INT32_MAX / T) {
        nn_fail(op, "B (rows) and T (steps) are >= 1, e.g. B = 32, T = 64",
                "B = %d, T = %d", B, T);
        return -1;
    }
    return 0;
}

int nn_text_random_batch(const int *ids, int n, int B, int T, nn_rng *rng, int *inputs,
                         int *targets) {
    const char *op = "nn_text_random_batch";
    if (check_batch(op, ids, B, T, inputs, targets) != 0) return -1;
    if (n <= T) { /* n < T + 1, without overflow */
        nn_fail(op, "a window is T + 1 ids (T inputs and the one after the last): use a "
                "smaller T or a longer text", "n = %d ids, T = %d", n, T);
        return -1;
    }
    if (!rng) rng = nn_global_rng();
    for (int b = 0; b < B; b++) {
        const int *w = ids + nn_rng_int(rng, n - T); /* starts 0 .. n-T-1 */
        for (int t = 0; t < T; t++) {
            inputs[b * T + t] = w[t];
            targets[b * T + t] = w[t + 1];
        }
    }
    return 0;
}

int nn_text_stream_init(nn_text_stream *s, const int *ids, int n, int B, int T) {
    const char *op = "nn_text_stream_init";
    if (!s) {
        nn_fail(op, "pass a stream to set up: nn_text_stream s; nn_text_stream_init(&s, ...)",
                "s is NULL");
        return -1;
    }
    if (check_batch(op, ids, B, T, ids, ids) != 0) return -1;
    if (n <= B) { /* n - 1 < B, without overflow */
        nn_fail(op, "each of the B rows needs at least one input and its target: n - 1 >= B",
                "n = %d ids for B = %d rows", n, B);
        return -1;
    }
    int len = (n - 1) / B;
    *s = (nn_text_stream){ids, B, T, len, 0, len / T + (len % T != 0)};
    return 0;
}

int nn_text_stream_next(nn_text_stream *s, int *inputs, int *targets) {
    const char *op = "nn_text_stream_next";
    if (!s || !s->ids || s->len < 1 || s->pos < 0 || s->pos > s->len) {
        nn_fail(op, "set the stream up with nn_text_stream_init first", "the stream is %s",
                s ? "not set up" : "NULL");
        return -1;
    }
    if (check_batch(op, s->ids, s->B, s->T, inputs, targets) != 0) return -1;
    int t = s->len - s->pos < s->T ? s->len - s->pos : s->T;
    for (int b = 0; b < s->B; b++) {
        const int *row = s->ids + (size_t)b * s->len + s->pos; /* stream b, at pos */
        for (int j = 0; j < t; j++) {
            inputs[b * t + j] = row[j];
            targets[b * t + j] = row[j + 1];
        }
    }
    s->pos += t;
    return t;
}

int nn_text_stream_reset(nn_text_stream *s) {
    if (!s || !s->ids) {
        nn_fail("nn_text_stream_reset", "set the stream up with nn_text_stream_init first",
                "the stream is %s", s ? "not set up" : "NULL");
        return -1;
    }
    s->pos = 0;
    return 0;
}
