/* src/data/bpe.c — the byte-pair-encoding tokenizer: learn merges from a text, encode text by
 * replaying them, decode by concatenation (include/nn/data/bpe.h; files: bpe_file.c).
 *
 * Training keeps the text as an array of ids and, beside it, the count of every pair of
 * neighbouring ids. A merge rewrites the array in one pass (a b -> x wherever it occurs) and
 * fixes the counts only around each rewrite: in "p a b q", the pairs (p, a), (a, b) and
 * (b, q) lose one and (p, x), (x, q) gain one. So finding the next pair never recounts the
 * whole text: a priority queue (a binary heap) hands out the most frequent pair. Counts only
 * fall, except for the new pairs around x, which enter the queue after the pass; an entry
 * whose count fell meanwhile is put back with its count now when it comes out ("lazy
 * deletion"). A merge costs one pass over the text: about 1 ms per million characters.
 *
 * Encoding uses a queue too, of the places in the text where a learned pair sits, lowest rank
 * first and then leftmost: the order in which training merged them. The text is a linked list
 * of tokens (next[], prev[]), so a merge is two pointer updates and two new candidates.
 */
#include "internal.h"
#include "bpe_internal.h"

#include <limits.h>

/* ---- (left, right) -> int ---------------------------------------------------------------- */

/* Two ids as one key, left in the high half. Every pair a table holds starts with an id of 1
 * or more (<unk> never merges), so the key 0 marks an empty slot. */
static uint64_t pair_key(int left, int right) {
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}
static int key_left(uint64_t key) { return (int)(key >> 32); }
static int key_right(uint64_t key) { return (int)(uint32_t)key; }

/* Open addressing, linear probing, at most half full (like the code point table of text.c). */
typedef struct {
    uint64_t *key;
    int *val;
    size_t cap, len;   /* cap: a power of two */
} pair_map;

static void map_init(pair_map *m, size_t expect) {
    m->cap = 16;
    while (m->cap < 2 * expect) m->cap *= 2;
    m->key = nn_xcalloc(m->cap, sizeof *m->key);
    m->val = nn_xcalloc(m->cap, sizeof *m->val);
    m->len = 0;
}

static void map_free(pair_map *m) {
    free(m->key);
    free(m->val);
}

/* The slot that holds key, or the empty one where it would go. */
static size_t map_slot(const pair_map *m, uint64_t key) {
    uint64_t h = key ^ key >> 31; /* mix both ids into the low bits */
    h *= 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 32) & (m->cap - 1);
    while (m->key[i] && m->key[i] != key) i = (i + 1) & (m->cap - 1);
    return i;
}

/* The value of key, or -1 when it has none. */
static int map_get(const pair_map *m, uint64_t key) {
    size_t i = map_slot(m, key);
    return m->key[i] ? m->val[i] : -1;
}

/* The value of key, inserted as `fresh` when new. */
static int *map_at(pair_map *m, uint64_t key, int fresh) {
    size_t i = map_slot(m, key);
    if (m->key[i]) return &m->val[i];
    if (2 * (m->len + 1) > m->cap) { /* grow, keeping it at most half full */
        pair_map bigger;
        map_init(&bigger, m->cap);
        for (size_t k = 0; k < m->cap; k++)
            if (m->key[k]) {
                size_t j = map_slot(&bigger, m->key[k]);
                bigger.key[j] = m->key[k];
                bigger.val[j] = m->val[k];
            }
        bigger.len = m->len;
        map_free(m);
        *m = bigger;
        i = map_slot(m, key);
    }
    m->key[i] = key;
    m->val[i] = fresh;
    m->len++;
    return &m->val[i];
}

/* ---- a priority queue: the smallest (hi, lo) first ---------------------------------------- */

typedef struct { uint64_t hi, lo; } heap_key;
typedef struct {
    heap_key *k;
    size_t n, cap;
} key_heap;

static bool before(heap_key a, heap_key b) { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo); }

static void heap_push(key_heap *h, uint64_t hi, uint64_t lo) {
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->k = nn_xrealloc(h->k, h->cap * sizeof *h->k);
    }
    size_t i = h->n++;
    heap_key x = {hi, lo};
    while (i > 0 && before(x, h->k[(i - 1) / 2])) { /* sift up */
        h->k[i] = h->k[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->k[i] = x;
}

static heap_key heap_pop(key_heap *h) { /* h->n > 0 */
    heap_key top = h->k[0], x = h->k[--h->n];
    size_t i = 0;
    for (;;) { /* sift the last one down from the root */
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(h->k[c + 1], h->k[c])) c++;
        if (!before(h->k[c], x)) break;
        h->k[i] = h->k[c];
        i = c;
    }
    if (h->n) h->k[i] = x;
    return top;
}

/* ---- the tokens' strings ------------------------------------------------------------------- */

struct nn_bpe_tables {
    char *text;        /* every token's bytes, each followed by a NUL */
    size_t *start;     /* id's bytes: text + start[id], start[id + 1] - start[id] - 1 of them */
    pair_map rank;     /* (left, right) -> the rank of its merge */
};

static const char unk_bytes[] = "\xef\xbf\xbd"; /* U+FFFD, the replacement character */

size_t nn_bpe_string_bytes(const nn_vocab *chars, const nn_bpe_merge *merges, int n_merges,
                           size_t *bytes) {
    size_t total = bytes[0] = sizeof unk_bytes - 1;
    for (int id = 1; id < chars->size; id++) {
        char b[4];
        total += bytes[id] = (size_t)nn_utf8_encode(chars->chars[id], b);
    }
    for (int k = 0; k < n_merges; k++) {
        size_t *made = &bytes[chars->size + k];
        *made = bytes[merges[k].left] + bytes[merges[k].right]; /* each <= total: no overflow */
        total += *made;
        if (total > NN_BPE_MAX_BYTES) return SIZE_MAX;
    }
    return total;
}

/* id's bytes: text + start[id], without the NUL after them. */
static size_t string_len(const struct nn_bpe_tables *t, int id) {
    return t->start[id + 1] - t->start[id] - 1;
}

/* Every token's bytes and a NUL, one after another: <unk> as U+FFFD, a character as its
 * UTF-8, a merge as its left part's bytes then its right part's (both built before it). */
static void build_strings(struct nn_bpe_tables *t, const nn_vocab *chars,
                          const nn_bpe_merge *merges, int n_merges) {
    size_t n = (size_t)chars->size + (size_t)n_merges;
    t->start = nn_xmalloc((n + 1) * sizeof *t->start);
    size_t total = nn_bpe_string_bytes(chars, merges, n_merges, t->start + 1);
    t->start[0] = 0;
    for (size_t id = 0; id < n; id++) t->start[id + 1] += t->start[id] + 1; /* lengths -> starts */
    t->text = nn_xmalloc(total + n);
    for (int id = 0; id < (int)n; id++) {
        char *s = t->text + t->start[id];
        if (id == 0) {
            memcpy(s, unk_bytes, sizeof unk_bytes - 1);
        } else if (id < chars->size) {
            nn_utf8_encode(chars->chars[id], s);
        } else {
            const nn_bpe_merge *m = &merges[id - chars->size];
            size_t left = string_len(t, m->left);
            memcpy(s, t->text + t->start[m->left], left);
            memcpy(s + left, t->text + t->start[m->right], string_len(t, m->right));
        }
        t->text[t->start[id + 1] - 1] = 0;
    }
}

nn_bpe *nn_bpe_from_parts(nn_vocab *chars, nn_bpe_merge *merges, int n_merges) {
    nn_bpe *bpe = nn_xcalloc(1, sizeof *bpe);
    bpe->chars = chars;
    bpe->merges = merges;
    bpe->n_merges = n_merges;
    bpe->size = chars->size + n_merges;
    struct nn_bpe_tables *t = bpe->tables = nn_xmalloc(sizeof *t);
    build_strings(t, chars, merges, n_merges);
    map_init(&t->rank, (size_t)n_merges);
    for (int k = 0; k < n_merges; k++)
        *map_at(&t->rank, pair_key(merges[k].left, merges[k].right), k) = k;
    return bpe;
}

int nn_bpe_first_repeat(const nn_bpe_merge *merges, int n_merges, int *earlier) {
    pair_map seen;
    map_init(&seen, (size_t)n_merges);
    int repeat = -1;
    for (int k = 0; k < n_merges && repeat < 0; k++) {
        int *first = map_at(&seen, pair_key(merges[k].left, merges[k].right), k);
        if (*first != k) {
            repeat = k;
            *earlier = *first;
        }
    }
    map_free(&seen);
    return repeat;
}

void nn_bpe_free(nn_bpe *bpe) {
    if (!bpe) return;
    if (bpe->tables) {
        map_free(&bpe->tables->rank);
        free(bpe->tables->text);
        free(bpe->tables->start);
        free(bpe->tables);
    }
    nn_vocab_free(bpe->chars);
    free(bpe->merges);
    free(bpe);
}

/* ---- training ----------------------------------------------------------------------------- */

typedef struct {
    int *tok;           /* the text as ids; merges shorten it */
    size_t n;
    int newline;        /* the id of "\n": no pair with it is counted, so none is merged */
    pair_map slot_of;   /* pair -> its slot in pair[] and count[] */
    uint64_t *pair;
    int *count;         /* adjacent occurrences now (in "aaa", a a occurs twice) */
    size_t n_pairs, cap_pairs;
    int *fresh;         /* slots whose count rose from 0 since the queue last saw them */
    size_t n_fresh, cap_fresh;
    key_heap queue;     /* (UINT32_MAX - count, pair): most frequent first, then smallest pair */
} trainer;

/* Count one more (delta 1) or one fewer (-1) of the pair left right; -1 stands for "no
 * token" at either end of the text. */
static void count_pair(trainer *t, int left, int right, int delta) {
    if (left <= 0 || right <= 0 || left == t->newline || right == t->newline) return;
    uint64_t key = pair_key(left, right);
    int s = *map_at(&t->slot_of, key, (int)t->n_pairs);
    if ((size_t)s == t->n_pairs) { /* a pair never seen before */
        if (t->n_pairs == t->cap_pairs) {
            t->cap_pairs = t->cap_pairs ? 2 * t->cap_pairs : 1024;
            t->pair = nn_xrealloc(t->pair, t->cap_pairs * sizeof *t->pair);
            t->count = nn_xrealloc(t->count, t->cap_pairs * sizeof *t->count);
        }
        t->pair[s] = key;
        t->count[s] = 0;
        t->n_pairs++;
    }
    t->count[s] += delta;
    if (delta > 0 && t->count[s] == 1) {
        if (t->n_fresh == t->cap_fresh) {
            t->cap_fresh = t->cap_fresh ? 2 * t->cap_fresh : 1024;
            t->fresh = nn_xrealloc(t->fresh, t->cap_fresh * sizeof *t->fresh);
        }
        t->fresh[t->n_fresh++] = s;
    }
}

static void queue_fresh(trainer *t) {
    for (size_t i = 0; i < t->n_fresh; i++) {
        int s = t->fresh[i];
        if (t->count[s] > 0) heap_push(&t->queue, UINT32_MAX - (uint64_t)t->count[s], t->pair[s]);
    }
    t->n_fresh = 0;
}

/* The slot of the most frequent pair (ties: the smallest (left, right)), or -1 when none is
 * left. An entry whose count fell since it was queued goes back in with its count now; every
 * pair has an entry with at least its count, so the first entry that is up to date is the
 * best pair. */
static int best_pair(trainer *t) {
    while (t->queue.n) {
        heap_key k = heap_pop(&t->queue);
        int s = map_get(&t->slot_of, k.lo);
        uint64_t now = (uint64_t)t->count[s];
        if (UINT32_MAX - k.hi == now) return s;
        if (now > 0) heap_push(&t->queue, UINT32_MAX - now, k.lo);
    }
    return -1;
}

/* Replace every a b in the text by x, left to right ("a a a" -> "x a"), fixing the counts
 * around each replacement: in "p a b q", (p, a), (a, b) and (b, q) go; (p, x) and (x, q) come.
 * p is what was written last, so after "a b a b" -> "x", the next one sees p = x. */
static void merge_pass(trainer *t, int a, int b, int x) {
    int *tok = t->tok;
    size_t n = t->n, w = 0;
    for (size_t i = 0; i < n; i++) {
        if (tok[i] != a || i + 1 == n || tok[i + 1] != b) {
            tok[w++] = tok[i];
            continue;
        }
        int p = w > 0 ? tok[w - 1] : -1, q = i + 2 < n ? tok[i + 2] : -1;
        count_pair(t, p, a, -1);
        count_pair(t, a, b, -1);
        count_pair(t, b, q, -1);
        count_pair(t, p, x, 1);
        count_pair(t, x, q, 1);
        tok[w++] = x;
        i++;
    }
    t->n = w;
}

static void trainer_init(trainer *t, const nn_vocab *chars, const char *text, size_t len,
                         size_t n) {
    memset(t, 0, sizeof *t);
    t->tok = nn_xmalloc((n ? n : 1) * sizeof *t->tok);
    t->n = (size_t)nn_vocab_encode(chars, text, len, t->tok, n); /* valid: cannot fail */
    t->newline = nn_vocab_id(chars, '\n');
    map_init(&t->slot_of, 4096);
    for (size_t i = 0; i + 1 < t->n; i++) count_pair(t, t->tok[i], t->tok[i + 1], 1);
    queue_fresh(t);
}

static void trainer_free(trainer *t) {
    free(t->tok);
    map_free(&t->slot_of);
    free(t->pair);
    free(t->count);
    free(t->fresh);
    free(t->queue.k);
}

/* Learn up to `most` merges; *n_merges gets how many. */
static nn_bpe_merge *learn(trainer *t, const nn_vocab *chars, int most, int *n_merges) {
    size_t cap = 0;
    nn_bpe_merge *merges = NULL;
    size_t *bytes = nn_xmalloc(((size_t)chars->size + (size_t)most) * sizeof *bytes);
    size_t total = nn_bpe_string_bytes(chars, NULL, 0, bytes);
    int k = 0;
    for (; k < most; k++) {
        int s = best_pair(t);
        if (s < 0 || t->count[s] < 2) break; /* no pair occurs twice: merging saves nothing */
        int a = key_left(t->pair[s]), b = key_right(t->pair[s]), x = chars->size + k;
        if (total + bytes[a] + bytes[b] > NN_BPE_MAX_BYTES) break;
        if ((size_t)k == cap) {
            cap = cap ? 2 * cap : 256;
            merges = nn_xrealloc(merges, cap * sizeof *merges);
        }
        merges[k] = (nn_bpe_merge){a, b, (uint64_t)t->count[s]};
        total += bytes[x] = bytes[a] + bytes[b];
        merge_pass(t, a, b, x);
        queue_fresh(t);
    }
    free(bytes);
    *n_merges = k;
    return merges;
}

nn_bpe *nn_bpe_train(const char *text, size_t len, int vocab_size) {
    const char *op = "nn_bpe_train";
    if (!text && len > 0) {
        nn_fail(op, "pass the text and its length in bytes", "text is NULL but len = %zu", len);
        return NULL;
    }
    if (vocab_size < 1 || vocab_size > NN_BPE_MAX_SIZE) {
        nn_fail(op, "vocab_size counts every id: <unk>, the text's characters and the merged "
                "tokens (at most NN_BPE_MAX_SIZE)", "vocab_size = %d, want 1 .. %d", vocab_size,
                NN_BPE_MAX_SIZE);
        return NULL;
    }
    char where[300];
    if (nn_utf8_find_bad(text, len, where, sizeof where) != len) {
        nn_set_last_error("%s: the text is not valid UTF-8: %s", op, where);
        return NULL;
    }
    nn_vocab *chars = nn_vocab_build(text, len, 0); /* valid UTF-8: cannot fail */
    if (chars->size > vocab_size) {
        int alphabet = chars->size;
        nn_vocab_free(chars); /* before nn_fail: its handler may not return */
        nn_fail(op, "the base alphabet is every character of the text, so vocab_size must be "
                "at least nn_vocab_build(text, len, 0)->size", "vocab_size = %d, but the "
                "text's alphabet alone has %d ids (<unk> and %d characters)", vocab_size,
                alphabet, alphabet - 1);
        return NULL;
    }
    uint64_t n = 0;
    for (int id = 1; id < chars->size; id++) n += chars->counts[id];
    if (n > (uint64_t)INT_MAX) {
        nn_vocab_free(chars);
        nn_set_last_error("%s: the text has %llu characters, more than INT_MAX (%d); train on "
                          "a part of it", op, (unsigned long long)n, INT_MAX);
        return NULL;
    }
    trainer t;
    trainer_init(&t, chars, text, len, (size_t)n);
    int n_merges;
    int most = vocab_size - chars->size; /* and a merge shortens the text by one at least */
    nn_bpe_merge *merges = learn(&t, chars, (uint64_t)most < n ? most : (int)n, &n_merges);
    trainer_free(&t);
    return nn_bpe_from_parts(chars, merges, n_merges);
}

/* ---- using it ----------------------------------------------------------------------------- */

int nn_bpe_size(const nn_bpe *bpe) {
    NN_REQUIRE_OR(bpe, "nn_bpe_size", -1);
    return bpe->size;
}

/* The rank of the merge of left right, or -1 when they never merge. */
static int rank_of(const nn_bpe *bpe, int left, int right) {
    if (left <= 0 || right <= 0) return -1; /* <unk> never merges (and key 0 is no key) */
    return map_get(&bpe->tables->rank, pair_key(left, right));
}

/* Queue the pair that starts at position p (q follows it), if it ever merges. */
static void queue_candidate(const nn_bpe *bpe, key_heap *h, const int *tok, int p, int q) {
    int r = rank_of(bpe, tok[p], tok[q]);
    if (r >= 0) heap_push(h, (uint64_t)r, (uint64_t)p);
}

/* Merge tok[0 .. n) as training did: the lowest rank first, leftmost first. Merges never make
 * a pair of a lower rank (a merge's own id only takes part in later merges), so the queue
 * hands out each rank's places left to right, as the training pass met them. Returns the new
 * length; tok[] is compacted. */
static int apply_merges(const nn_bpe *bpe, int *tok, int n) {
    if (n < 2 || bpe->n_merges == 0) return n;
    int *next = nn_xmalloc((size_t)n * sizeof *next), *prev = nn_xmalloc((size_t)n * sizeof *prev);
    key_heap h = {0};
    for (int i = 0; i < n; i++) {
        next[i] = i + 1; /* n: the end */
        prev[i] = i - 1;
    }
    for (int i = 0; i + 1 < n; i++) queue_candidate(bpe, &h, tok, i, i + 1);
    while (h.n) {
        heap_key k = heap_pop(&h);
        int p = (int)k.lo, q = next[p];
        if (tok[p] < 0 || q == n || rank_of(bpe, tok[p], tok[q]) != (int)k.hi) continue; /* gone */
        tok[p] = bpe->chars->size + (int)k.hi; /* p holds the merged token, q goes */
        tok[q] = -1;
        next[p] = next[q];
        if (next[p] < n) prev[next[p]] = p;
        if (prev[p] >= 0) queue_candidate(bpe, &h, tok, prev[p], p);
        if (next[p] < n) queue_candidate(bpe, &h, tok, p, next[p]);
    }
    int w = 0;
    for (int i = 0; i < n; i = next[i]) tok[w++] = tok[i]; /* position 0 always survives */
    free(h.k);
    free(next);
    free(prev);
    return w;
}

int nn_bpe_encode(const nn_bpe *bpe, const char *text, size_t len, int *ids, size_t cap) {
    const char *op = "nn_bpe_encode";
    NN_REQUIRE_OR(bpe, op, -1);
    if ((!text && len > 0) || (!ids && cap > 0)) {
        nn_fail(op, "pass the text with its length, and ids with room for cap ids (or NULL, 0 "
                "to count them)", "%s is NULL but %s = %zu", !ids && cap ? "ids" : "text",
                !ids && cap ? "cap" : "len", !ids && cap ? cap : len);
        return -1;
    }
    char where[300];
    if (nn_utf8_find_bad(text, len, where, sizeof where) != len)
        return nn_set_last_error("%s: the text is not valid UTF-8: %s", op, where);
    size_t n = 0; /* characters: the bytes that start one */
    for (size_t i = 0; i < len; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    if (n > (size_t)INT_MAX)
        return nn_set_last_error("%s: the text has more than INT_MAX (%d) characters; encode it "
                                 "in parts", op, INT_MAX);
    int *tok = nn_xmalloc((n ? n : 1) * sizeof *tok);
    nn_vocab_encode(bpe->chars, text, len, tok, n); /* valid UTF-8: cannot fail */
    int count = apply_merges(bpe, tok, (int)n);
    if (ids) memcpy(ids, tok, ((size_t)count < cap ? (size_t)count : cap) * sizeof *tok);
    free(tok);
    return count;
}

const char *nn_bpe_token(const nn_bpe *bpe, int id, size_t *len) {
    const char *op = "nn_bpe_token";
    NN_REQUIRE(bpe, op);
    if (id < 0 || id >= bpe->size) {
        nn_fail(op, "ids come from nn_bpe_encode or a model's output of bpe->size classes",
                "id = %d, but the tokenizer has ids 0 .. %d", id, bpe->size - 1);
        return NULL;
    }
    if (len) *len = string_len(bpe->tables, id);
    return bpe->tables->text + bpe->tables->start[id];
}

/* How many of the first `room` bytes of s[0 .. k) (room < k) make whole characters: cut
 * before the character that would not fit. */
static size_t whole_chars(const char *s, size_t room) {
    while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80) room--;
    return room;
}

int nn_bpe_decode(const nn_bpe *bpe, const int *ids, int n, char *out, size_t size) {
    const char *op = "nn_bpe_decode";
    NN_REQUIRE_OR(bpe, op, -1);
    if (n < 0 || (!ids && n > 0) || (!out && size > 0)) {
        nn_fail(op, "pass n >= 0 ids and out with room for size bytes (or NULL, 0 to learn the "
                "length)", "n = %d, ids %s, out %s, size = %zu", n, ids ? "given" : "NULL",
                out ? "given" : "NULL", size);
        return -1;
    }
    size_t used = 0; /* bytes written to out */
    size_t need = 0; /* bytes of the whole text */
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= bpe->size) {
            nn_fail(op, "ids come from nn_bpe_encode or a model's output of bpe->size classes",
                    "ids[%d] = %d, but the tokenizer has ids 0 .. %d", i, ids[i], bpe->size - 1);
            return -1;
        }
        size_t k;
        const char *s = nn_bpe_token(bpe, ids[i], &k);
        if (need == used && size > 0) { /* nothing cut yet: copy what fits, with the NUL */
            size_t fit = used + k < size ? k : whole_chars(s, size - 1 - used);
            memcpy(out + used, s, fit);
            used += fit;
        }
        need += k;
        if (need > (size_t)INT_MAX) {
            if (size > 0) out[used] = 0;
            return nn_set_last_error("%s: the text of these %d ids is longer than INT_MAX (%d) "
                                     "bytes; decode them in parts", op, n, INT_MAX);
        }
    }
    if (size > 0) out[used] = 0;
    return (int)need;
}
