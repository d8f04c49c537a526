/* src/ops/similarity.c — cosine similarity along an axis (differentiable), and the k nearest
 * rows of a table (not differentiable).
 *
 * a and b are broadcast to a common shape, as nn_add does (src/ops/broadcast.h): both are seen as
 * 4-D, and an input of size 1 in a dim has stride 0 there. One output element is one "slice":
 * the n values along the axis, a_k = a[ia + k * sa_axis] and b_k likewise.
 *
 * Per slice, with na = |a|, nb = |b|, ca = max(na, eps), cb = max(nb, eps) and d = a.b:
 *   y = d / (ca cb)
 * Differentiating (dca/da_k = a_k / na while na > eps, and 0 where the clamp holds ca = eps):
 *   dy/da_k = b_k / (ca cb) - d / (ca^2 cb) * dca/da_k
 *           = b_k / (ca cb) - [na > eps] y a_k / na^2           (ca = na on that branch)
 *   dy/db_k = a_k / (ca cb) - [nb > eps] y b_k / nb^2           (the same, a and b swapped)
 * so dL/da_k += g (b_k / (ca cb) - ta a_k) with ta = y / na^2 (0 when na <= eps). Every term is
 * finite, zero vectors included: then d = 0, y = 0, and dL/da = g b / (eps cb).
 */
#include "internal.h"
#include "ops/broadcast.h"
#include "nn/ops/similarity.h"

/* ---- broadcasting a and b along an axis -------------------------------------------------- */

typedef struct {
    int dims[NN_MAX_DIMS];            /* the common shape, padded to 4-D at the front */
    size_t sa[NN_MAX_DIMS], sb[NN_MAX_DIMS]; /* strides of a and b in it (0: broadcast) */
    int axis;                         /* the axis, in the padded 4-D space */
    size_t n;                         /* the slice length, dims[axis] */
    float eps;
    float *na, *nb;                   /* per slice |a| and |b| (saved for backward) */
} cos_map;

/* Fill *m from a, b and the axis; the output shape (the common shape without the axis) goes
 * to out_shape, its ndim is returned. Reports misuse and returns -1 when something is wrong. */
static int cos_map_of(const nn_tensor *a, const nn_tensor *b, int axis, cos_map *m,
                      int *out_shape) {
    const char *op = "nn_cosine_similarity";
    broadcast bc;
    if (!broadcast_shapes(op, a, b, &bc)) return -1;
    memcpy(m->dims, bc.dims, sizeof m->dims);
    memcpy(m->sa, bc.sa, sizeof m->sa);
    memcpy(m->sb, bc.sb, sizeof m->sb);
    nn_tensor common = {0};   /* only its shape: for nn_norm_axis and messages */
    nn_set_shape(&common, bc.ndim, bc.shape);
    int ax = nn_norm_axis(op, &common, axis);   /* a scalar (nd = 0) has no axis: misuse */
    if (ax < 0) return -1;
    m->axis = ax + (NN_MAX_DIMS - bc.ndim);
    m->n = (size_t)m->dims[m->axis];
    int k = 0;
    for (int d = 0; d < bc.ndim; d++)
        if (d != ax) out_shape[k++] = common.shape[d];
    return k;
}

/* The offsets in a and b where slice r (an output index) starts. */
static void slice_start(const cos_map *m, size_t r, size_t *ia, size_t *ib) {
    size_t oa = 0, ob = 0;
    for (int d = NN_MAX_DIMS - 1; d >= 0; d--) {
        if (d == m->axis) continue;
        size_t j = r % (size_t)m->dims[d];
        r /= (size_t)m->dims[d];
        oa += j * m->sa[d];
        ob += j * m->sb[d];
    }
    *ia = oa;
    *ib = ob;
}

/* ---- cosine similarity: y = a.b / (max(|a|, eps) max(|b|, eps));  gradients above -------- */

static void cosine_backward(nn_node *node) {
    const cos_map *m = node->extra;
    const float *a = node->in[0]->data, *b = node->in[1]->data;
    const float *y = node->out->data, *g = node->out->grad;
    float *ga = WANTS_GRAD(node->in[0]) ? node->in[0]->grad : NULL;
    float *gb = WANTS_GRAD(node->in[1]) ? node->in[1]->grad : NULL;
    size_t step_a = m->sa[m->axis], step_b = m->sb[m->axis];
    for (size_t r = 0; r < node->out->size; r++) {
        if (g[r] == 0.0f) continue;
        double na = m->na[r], nb = m->nb[r], eps = m->eps;
        double inv = 1.0 / (fmax(na, eps) * fmax(nb, eps));   /* 1 / (ca cb) */
        double ta = na > eps ? y[r] / (na * na) : 0.0;
        double tb = nb > eps ? y[r] / (nb * nb) : 0.0;
        size_t ia, ib;
        slice_start(m, r, &ia, &ib);
        for (size_t k = 0; k < m->n; k++, ia += step_a, ib += step_b) {
            if (ga) ga[ia] += (float)(g[r] * (b[ib] * inv - ta * a[ia]));
            if (gb) gb[ib] += (float)(g[r] * (a[ia] * inv - tb * b[ib]));
        }
    }
}

/* a, b broadcastable;  (..., n at axis, ...) -> (...) without the axis */
nn_tensor *nn_cosine_similarity(nn_tensor *a, nn_tensor *b, int axis, float eps) {
    NN_REQUIRE(a, "nn_cosine_similarity");
    NN_REQUIRE(b, "nn_cosine_similarity");
    if (!(eps > 0.0f) || isinf(eps)) {
        nn_fail("nn_cosine_similarity", "eps > 0 keeps a zero vector from dividing by 0; "
                "NN_COSINE_EPS (1e-8) is PyTorch's default", "eps = %g", eps);
        return NULL;
    }
    cos_map local;
    int shape[NN_MAX_DIMS];
    int nd = cos_map_of(a, b, axis, &local, shape);
    if (nd < 0) return NULL;
    nn_node *node;
    nn_tensor *out = nn_record("nn_cosine_similarity", cosine_backward, nd, shape, a, b, NULL,
                               &node);
    cos_map *m = nn_arena_alloc(sizeof *m);   /* the norms live in the arena either way */
    *m = local;
    m->eps = eps;
    m->na = nn_arena_alloc(out->size * sizeof(float));
    m->nb = nn_arena_alloc(out->size * sizeof(float));
    size_t step_a = m->sa[m->axis], step_b = m->sb[m->axis];
    for (size_t r = 0; r < out->size; r++) {
        size_t ia, ib;
        slice_start(m, r, &ia, &ib);
        double dot = 0.0, aa = 0.0, bb = 0.0;   /* double: long vectors lose digits in float */
        for (size_t k = 0; k < m->n; k++, ia += step_a, ib += step_b) {
            double x = a->data[ia], z = b->data[ib];
            dot += x * z;
            aa += x * x;
            bb += z * z;
        }
        double na = sqrt(aa), nb = sqrt(bb);
        m->na[r] = (float)na;
        m->nb[r] = (float)nb;
        out->data[r] = (float)(dot / (fmax(na, eps) * fmax(nb, eps)));
    }
    if (node) node->extra = m;
    return out;
}

/* ---- the k nearest rows ------------------------------------------------------------------ */

typedef struct { float score; int id; } scored;

/* Best first: a higher score, then the lower id; NaN after every number. */
static int best_first(const void *pa, const void *pb) {
    const scored *x = pa, *y = pb;
    bool xn = isnan(x->score), yn = isnan(y->score);
    if (xn != yn) return xn ? 1 : -1;
    if (!xn && x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int nn_nearest_rows(const nn_tensor *table, const float *query, int k, int exclude,
                    int *ids_out, float *scores_out) {
    const char *op = "nn_nearest_rows";
    NN_REQUIRE_OR(table, op, -1);
    NN_REQUIRE_OR(query, op, -1);
    NN_REQUIRE_OR(ids_out, op, -1);
    if (table->ndim != 2) {
        nn_fail(op, "pass a table of V rows of E values, e.g. an embedding's weight (V, E)",
                "table has shape %s", SHAPE(table));
        return -1;
    }
    int V = table->shape[0], E = table->shape[1];
    if (k < 1 || exclude >= V) {
        nn_fail(op, "k >= 1 rows; exclude is a row id in 0..V-1, or -1 for none",
                "k = %d, exclude = %d for a table of shape %s", k, exclude, SHAPE(table));
        return -1;
    }
    double qq = 0.0;
    for (int e = 0; e < E; e++) qq += (double)query[e] * query[e];
    double cq = fmax(sqrt(qq), NN_COSINE_EPS);
    scored *all = nn_xmalloc((size_t)V * sizeof *all);
    int n = 0;
    for (int v = 0; v < V; v++) {
        if (v == exclude) continue;
        const float *row = table->data + (size_t)v * (size_t)E;
        double dot = 0.0, rr = 0.0;
        for (int e = 0; e < E; e++) {
            dot += (double)row[e] * query[e];
            rr += (double)row[e] * row[e];
        }
        all[n].score = (float)(dot / (fmax(sqrt(rr), NN_COSINE_EPS) * cq));
        all[n].id = v;
        n++;
    }
    qsort(all, (size_t)n, sizeof *all, best_first);   /* O(V log V): no O(V k) insertion */
    int count = k < n ? k : n;
    for (int j = 0; j < count; j++) {
        ids_out[j] = all[j].id;
        if (scores_out) scores_out[j] = all[j].score;
    }
    free(all);
    return count;
}
