/* src/data/text.c — the character vocabulary (词表): count the characters (字符) of a text,
 * give each an id in order of frequency, and turn text into ids and back
 * (include/nn/data/text.h; files: text_vocab_file.c; UTF-8: text_utf8.c).
 *
 *   "明月光，明月"  -> counts  明 2, 月 2, 光 1, ， 1
 *                   -> ids     0 <unk>, 1 明, 2 月, 3 光, 4 ，
 *
 * 明 (U+660E) and 月 (U+6708) tie at 2, so the smaller code point comes first; so do 光
 * (U+5149) and ， (U+FF0C) at 1. A fixed order means the same text always gives the same ids,
 * which a model's checkpoint relies on: its embedding row 3 must mean the same character
 * next time.
 *
 * Code point -> id goes through a small hash table (open addressing, linear probing); the
 * same table does the counting while the vocabulary is built.
 */
#include "internal.h"
#include "nn/data/text.h"

#include <limits.h>

/* ---- code point -> value -------------------------------------------------------------------- */

typedef struct nn_vocab_index {
    uint32_t *key;   /* code point + 1; 0 marks an empty slot */
    uint64_t *val;
    size_t cap;      /* a power of two, at least twice the number of keys */
    size_t len;
} cp_map;

static void map_init(cp_map *m, size_t expect) {
    m->cap = 16;
    while (m->cap < 2 * expect) m->cap *= 2;
    m->key = nn_xcalloc(m->cap, sizeof *m->key);
    m->val = nn_xcalloc(m->cap, sizeof *m->val);
    m->len = 0;
}

static void map_free(cp_map *m) {
    free(m->key);
    free(m->val);
}

static size_t map_home(const cp_map *m, uint32_t cp) {
    return (size_t)(((uint64_t)cp * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

/* The slot that holds cp, or the empty one where it would go. */
static size_t map_slot(const cp_map *m, uint32_t cp) {
    size_t i = map_home(m, cp);
    while (m->key[i] && m->key[i] != cp + 1) i = (i + 1) & (m->cap - 1);
    return i;
}

/* The value of cp, inserted as 0 when new. */
static uint64_t *map_at(cp_map *m, uint32_t cp) {
    size_t i = map_slot(m, cp);
    if (m->key[i]) return &m->val[i];
    if (2 * (m->len + 1) > m->cap) { /* grow: keep the table at most half full */
        cp_map bigger;
        map_init(&bigger, m->cap);
        for (size_t k = 0; k < m->cap; k++)
            if (m->key[k]) {
                size_t j = map_slot(&bigger, m->key[k] - 1);
                bigger.key[j] = m->key[k];
                bigger.val[j] = m->val[k];
            }
        bigger.len = m->len;
        map_free(m);
        *m = bigger;
        i = map_slot(m, cp);
    }
    m->key[i] = cp + 1;
    m->len++;
    return &m->val[i];
}

/* ---- building --------------------------------------------------------------------------- */

typedef struct { uint32_t cp; uint64_t count; } char_count;

/* Most frequent first; ties by code point. */
static int by_frequency(const void *a, const void *b) {
    const char_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->cp < y->cp ? -1 : x->cp > y->cp;
}

/* Shared with text_vocab_file.c: a vocabulary of size ids with these characters and counts
 * (chars[0], counts[0] belong to <unk>; the arrays become the vocabulary's). */
nn_vocab *nn_vocab_from_arrays(int size, uint32_t *chars, uint64_t *counts) {
    nn_vocab *v = nn_xcalloc(1, sizeof *v);
    v->size = size;
    v->chars = chars;
    v->counts = counts;
    v->index = nn_xmalloc(sizeof *v->index);
    map_init(v->index, (size_t)size);
    for (int id = 1; id < size; id++) *map_at(v->index, chars[id]) = (uint64_t)id;
    return v;
}

nn_vocab *nn_vocab_build(const char *text, size_t len, int max_size) {
    const char *op = "nn_vocab_build";
    if (!text && len > 0) {
        nn_fail(op, "pass the text and its length in bytes", "text is NULL but len = %zu", len);
        return NULL;
    }
    if (max_size < 0 || max_size == 1) {
        nn_fail(op, "max_size is 0 (every character) or the most ids, <unk> included (>= 2)",
                "max_size = %d", max_size);
        return NULL;
    }
    cp_map counts;
    map_init(&counts, 256);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = nn_utf8_decode(text + i, len - i, &cp);
        if (k == 0) {
            char where[300];
            nn_utf8_find_bad(text, len, where, sizeof where);
            map_free(&counts);
            nn_set_last_error("%s: the text is not valid UTF-8: %s", op, where);
            return NULL;
        }
        (*map_at(&counts, cp))++;
        i += (size_t)k;
    }
    char_count *all = nn_xmalloc((counts.len ? counts.len : 1) * sizeof *all);
    size_t n = 0;
    for (size_t s = 0; s < counts.cap; s++)
        if (counts.key[s]) all[n++] = (char_count){counts.key[s] - 1, counts.val[s]};
    map_free(&counts);
    qsort(all, n, sizeof *all, by_frequency);

    size_t keep = n; /* characters that get an id */
    if (max_size > 0 && keep > (size_t)max_size - 1) keep = (size_t)max_size - 1;
    uint32_t *chars = nn_xcalloc(keep + 1, sizeof *chars);
    uint64_t *freq = nn_xcalloc(keep + 1, sizeof *freq);
    for (size_t i = 0; i < n; i++) {
        if (i < keep) {
            chars[i + 1] = all[i].cp;
            freq[i + 1] = all[i].count;
        } else {
            freq[0] += all[i].count; /* cut by max_size: these occurrences become <unk> */
        }
    }
    free(all);
    return nn_vocab_from_arrays((int)keep + 1, chars, freq);
}

void nn_vocab_free(nn_vocab *v) {
    if (!v) return;
    if (v->index) map_free(v->index);
    free(v->index);
    free(v->chars);
    free(v->counts);
    free(v);
}

/* ---- using it ----------------------------------------------------------------------------- */

static int lookup(const nn_vocab *v, uint32_t cp) {
    size_t i = map_slot(v->index, cp);
    return v->index->key[i] ? (int)v->index->val[i] : NN_VOCAB_UNK;
}

int nn_vocab_id(const nn_vocab *v, uint32_t cp) {
    NN_REQUIRE_OR(v, "nn_vocab_id", NN_VOCAB_UNK);
    return lookup(v, cp);
}

int nn_vocab_encode(const nn_vocab *v, const char *text, size_t len, int *ids, size_t cap) {
    const char *op = "nn_vocab_encode";
    NN_REQUIRE_OR(v, op, -1);
    if ((!text && len > 0) || (!ids && cap > 0)) {
        nn_fail(op, "pass the text with its length, and ids with room for cap ids (or NULL, 0 "
                "to count them)", "%s is NULL but %s = %zu", !ids && cap ? "ids" : "text",
                !ids && cap ? "cap" : "len", !ids && cap ? cap : len);
        return -1;
    }
    size_t count = 0;
    for (size_t i = 0; i < len; count++) {
        uint32_t cp;
        int k = nn_utf8_decode(text + i, len - i, &cp);
        if (k == 0) {
            char where[300];
            nn_utf8_find_bad(text, len, where, sizeof where);
            return nn_set_last_error("%s: the text is not valid UTF-8: %s", op, where);
        }
        if (count >= (size_t)INT_MAX)
            return nn_set_last_error("%s: the text has more than INT_MAX (%d) characters; "
                                     "encode it in parts", op, INT_MAX);
        if (count < cap) ids[count] = lookup(v, cp);
        i += (size_t)k;
    }
    return (int)count;
}

int nn_vocab_decode(const nn_vocab *v, const int *ids, int n, char *out, size_t size) {
    const char *op = "nn_vocab_decode";
    NN_REQUIRE_OR(v, op, -1);
    if (n < 0 || n > INT_MAX / 4 || (!ids && n > 0) || (!out && size > 0)) {
        nn_fail(op, "pass n >= 0 ids (at most INT_MAX / 4) and out with room for size bytes "
                "(or NULL, 0 to learn the length)", "n = %d, ids %s, out %s, size = %zu", n,
                ids ? "given" : "NULL", out ? "given" : "NULL", size);
        return -1;
    }
    size_t used = 0;  /* bytes written to out */
    size_t need = 0;  /* bytes of the whole text */
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->size) {
            nn_fail(op, "ids come from nn_vocab_encode or a model's output of vocab->size "
                    "classes", "ids[%d] = %d, but the vocabulary has ids 0 .. %d", i, ids[i],
                    v->size - 1);
            return -1;
        }
        char b[4];
        int k = ids[i] == NN_VOCAB_UNK ? nn_utf8_encode(0xFFFD, b)
                                       : nn_utf8_encode(v->chars[ids[i]], b);
        if (need == used && size > 0 && used + (size_t)k < size) { /* room for it and the NUL */
            memcpy(out + used, b, (size_t)k);
            used += (size_t)k;
        }
        need += (size_t)k;
    }
    if (size > 0) out[used] = 0;
    return (int)need;
}
