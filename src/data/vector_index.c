/* src/data/vector_index.c — the vector index in memory: adding an entry (its vector divided
 * by its length, once), searching (one dot product per entry, then the k best), and reading
 * entries back (include/nn/data/vector_index.h; the NNVX file: vector_index_file.c).
 *
 * The unit vectors sit in one block, row after row, so a search reads memory in order. The
 * dot products are summed in double: a float sum of many terms loses digits, and two entries
 * whose true scores differ would then tie or swap. Ranking is a sort of every score, best
 * first and the lower id first among equals (the order of nn_nearest_rows in
 * src/ops/similarity.c), so the same index and query always give the same answer.
 */
#include "data/vector_index_impl.h"

#include <limits.h>

nn_vector_index *nn_vector_index_new(int dim) {
    if (dim < 1 || dim > NN_VECTOR_INDEX_MAX_DIM) {
        nn_fail("nn_vector_index_new", "dim is the length of your embedding vectors, "
                "1 .. 65536 (NN_VECTOR_INDEX_MAX_DIM)", "dim = %d", dim);
        return NULL;
    }
    nn_vector_index *ix = nn_xcalloc(1, sizeof *ix);
    ix->dim = dim;
    return ix;
}

void nn_vector_index_free(nn_vector_index *ix) {
    if (!ix) return;
    for (int i = 0; i < ix->count; i++) free(ix->docs[i].text);
    free(ix->docs);
    free(ix->unit);
    free(ix);
}

int nn_vector_index_dim(const nn_vector_index *ix) {
    NN_REQUIRE_OR(ix, "nn_vector_index_dim", -1);
    return ix->dim;
}

int nn_vector_index_count(const nn_vector_index *ix) {
    NN_REQUIRE_OR(ix, "nn_vector_index_count", -1);
    return ix->count;
}

/* ---- adding ----------------------------------------------------------------------------- */

/* Room for one more entry. The capacity doubles, so n adds copy O(n) values in all. */
static void grow(nn_vector_index *ix) {
    if (ix->count < ix->cap) return;
    int cap = ix->cap == 0 ? 16 : ix->cap > INT_MAX / 2 ? INT_MAX : 2 * ix->cap;
    ix->unit = nn_xrealloc(ix->unit, (size_t)cap * (size_t)ix->dim * sizeof(float));
    ix->docs = nn_xrealloc(ix->docs, (size_t)cap * sizeof *ix->docs);
    ix->cap = cap;
}

/* The vector of entry `count` is in place: copy the document in, and count it. */
static int store(nn_vector_index *ix, const char *text, size_t len, int tag) {
    vx_doc *d = &ix->docs[ix->count];
    d->text = nn_xmalloc(len + 1);
    if (len) memcpy(d->text, text, len);
    d->text[len] = 0;
    d->len = len;
    d->tag = tag;
    return ix->count++;
}

int nn_vx_append(nn_vector_index *ix, const float *unit, const char *text, size_t len,
                 int tag) {
    grow(ix);
    memcpy(ix->unit + (size_t)ix->count * (size_t)ix->dim, unit, (size_t)ix->dim * sizeof(float));
    return store(ix, text, len, tag);
}

/* v / |v| into unit[0 .. n). 0, or -1 with the message (`what`: "the vector", "the query")
 * when v holds a NaN or an infinity, or is zero: no direction, so no cosine. */
static int to_unit(const char *op, const char *what, const float *v, size_t n, float *unit) {
    size_t bad = nn_find_nonfinite(v, n);
    if (bad < n)
        return nn_set_last_error("%s: %s is not finite: value %zu of %zu is %g (a model that "
                                 "diverged gives NaN embeddings)", op, what, bad, n, v[bad]);
    double norm = sqrt(nn_vx_norm2(v, n));
    if (norm == 0.0)
        return nn_set_last_error("%s: %s is zero (all %zu values are 0): it has no direction, "
                                 "so no cosine is defined (a text of characters the embedding "
                                 "does not know?)", op, what, n);
    for (size_t i = 0; i < n; i++) unit[i] = (float)(v[i] / norm);
    return 0;
}

int nn_vector_index_add(nn_vector_index *ix, const float *vec, const char *text, size_t len,
                        int tag) {
    const char *op = "nn_vector_index_add";
    NN_REQUIRE_OR(ix, op, -1);
    NN_REQUIRE_OR(vec, op, -1);
    if (!text && len > 0) {
        nn_fail(op, "pass the document's text and its length in bytes (NULL, 0: no text)",
                "text is NULL but len = %zu", len);
        return -1;
    }
    if (len > NN_VECTOR_INDEX_MAX_TEXT)
        return nn_set_last_error("%s: the text has %zu bytes, more than the %u one entry may "
                                 "hold; split a long document into passages and add each",
                                 op, len, NN_VECTOR_INDEX_MAX_TEXT);
    char where[300];
    if (nn_utf8_find_bad(text, len, where, sizeof where) < len)
        return nn_set_last_error("%s: the text is not valid UTF-8: %s", op, where);
    if (ix->count == INT_MAX)
        return nn_set_last_error("%s: the index is full: %d entries, as many as int ids can "
                                 "number", op, INT_MAX);
    grow(ix);
    float *row = ix->unit + (size_t)ix->count * (size_t)ix->dim; /* not counted until stored */
    if (to_unit(op, "the vector", vec, (size_t)ix->dim, row) != 0) return -1;
    return store(ix, text, len, tag);
}

/* ---- searching -------------------------------------------------------------------------- */

typedef struct { float score; int id; } vx_hit;

/* Best first: the higher score, then the lower id. (Scores are never NaN here: both vectors
 * are finite unit vectors.) */
static int best_first(const void *pa, const void *pb) {
    const vx_hit *x = pa, *y = pb;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The cosine of unit vectors a and b: their dot product. Four running sums, because with
 * one each addition waits for the one before it to finish; with four the CPU works on four
 * at once (about 3x faster for 256 dimensions). Rounding can take the sum a hair past +-1, so it
 * is clamped to the range a cosine has. */
static float unit_cosine(const float *a, const float *b, size_t n) {
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++) s[j] += (double)a[i + j] * b[i + j];
    for (; i < n; i++) s[0] += (double)a[i] * b[i];
    double dot = (s[0] + s[1]) + (s[2] + s[3]);
    return (float)(dot > 1.0 ? 1.0 : dot < -1.0 ? -1.0 : dot);
}

int nn_vector_index_search(const nn_vector_index *ix, const float *query, int k, int *ids,
                           float *scores) {
    const char *op = "nn_vector_index_search";
    NN_REQUIRE_OR(ix, op, -1);
    NN_REQUIRE_OR(query, op, -1);
    NN_REQUIRE_OR(ids, op, -1);
    if (k < 1) {
        nn_fail(op, "k is how many of the best entries you want: 1 or more (a k larger than "
                "the count gives every entry)", "k = %d", k);
        return -1;
    }
    size_t dim = (size_t)ix->dim;
    float *q = nn_xmalloc(dim * sizeof *q);
    if (to_unit(op, "the query", query, dim, q) != 0) {
        free(q);
        return -1;
    }
    vx_hit *hits = nn_xmalloc((ix->count ? (size_t)ix->count : 1) * sizeof *hits);
    for (int i = 0; i < ix->count; i++) {   /* one dot product per entry */
        hits[i].score = unit_cosine(ix->unit + (size_t)i * dim, q, dim);
        hits[i].id = i;
    }
    qsort(hits, (size_t)ix->count, sizeof *hits, best_first);
    int n = k < ix->count ? k : ix->count;
    for (int j = 0; j < n; j++) {
        ids[j] = hits[j].id;
        if (scores) scores[j] = hits[j].score;
    }
    free(hits);
    free(q);
    return n;
}

/* ---- reading entries back --------------------------------------------------------------- */

/* id names an entry of ix; otherwise reports misuse for op and returns false. */
static bool has_id(const nn_vector_index *ix, int id, const char *op) {
    if (id >= 0 && id < ix->count) return true;
    nn_fail(op, "an id is what nn_vector_index_add returned or nn_vector_index_search wrote: "
            "0 .. count-1", "id = %d, but the index has %d entries", id, ix->count);
    return false;
}

const char *nn_vector_index_text(const nn_vector_index *ix, int id, size_t *len) {
    NN_REQUIRE(ix, "nn_vector_index_text");
    if (!has_id(ix, id, "nn_vector_index_text")) return NULL;
    if (len) *len = ix->docs[id].len;
    return ix->docs[id].text;
}

int nn_vector_index_tag(const nn_vector_index *ix, int id) {
    NN_REQUIRE_OR(ix, "nn_vector_index_tag", 0);
    if (!has_id(ix, id, "nn_vector_index_tag")) return 0;
    return ix->docs[id].tag;
}

const float *nn_vector_index_vector(const nn_vector_index *ix, int id) {
    NN_REQUIRE(ix, "nn_vector_index_vector");
    if (!has_id(ix, id, "nn_vector_index_vector")) return NULL;
    return ix->unit + (size_t)id * (size_t)ix->dim;
}
