/* src/ops/attention.c — scaled dot-product attention, forward and backward, two ways.
 *
 * The formulas are in include/nn/ops/attention.h. Each (batch, head) pair is independent:
 * G of them (G = the product of the leading axes), each with
 *   Q (Tq, d)   K (Tk, d)   V (Tk, dv)   A (Tq, Tk)   Y (Tq, dv)
 * The weights A are saved for backward (and handed out as *weights when asked for).
 *   reference  every sum written out as a loop over one index. Read this one first.
 *   fast       the same sums as matrix products on the GEMM (src/core/gemm.c): the ones
 *              with a transposed operand (Q K^T, dY V^T on _nt; A^T dY, dS^T Q on _tn) read
 *              it in place, so nothing is copied.
 * The groups are shared among the OpenMP threads (each writes only its own slices of the
 * output and of the gradients, so the numbers do not depend on the thread count); the
 * products inside a group then run on that one thread.
 */
#include "internal.h"
#include "core/vmath.h"
#include "nn/ops/attention.h"

typedef struct attn_dims {
    int groups;        /* G: batch x heads */
    int Tq, Tk, d, dv;
    bool causal;
    bool reference;    /* which implementation the forward used */
    float scale;       /* 1 / sqrt(d) */
    float *weights;    /* A, (G, Tq, Tk) */
} attn_dims;

static bool use_reference = false;

bool nn_set_attention_reference(bool on) {
    bool old = use_reference;
    use_reference = on;
    return old;
}
bool nn_is_attention_reference(void) { return use_reference; }

/* The last key query i may see: all of them, or (causal) the ones up to its own position. */
static int last_key(const attn_dims *a, int i) { return a->causal ? i + a->Tk - a->Tq : a->Tk - 1; }

/* Softmax of one row s[0 .. n) in place over its first `seen` entries; the rest (masked)
 * get weight 0. seen >= 1, so a row always has a finite maximum. */
static void softmax_row(float *s, int seen, int n) {
    float m = nn_max_floats(s, (size_t)seen);
    float sum = nn_vexp_sum(s, m, s, (size_t)seen);   /* in place: s = e^(s - m) */
    for (int j = 0; j < seen; j++) s[j] /= sum;
    for (int j = seen; j < n; j++) s[j] = 0.0f;
}

/* ---- reference: one number at a time ------------------------------------------------------ */

/* q (Tq, d), k (Tk, d), v (Tk, dv) -> a (Tq, Tk), y (Tq, dv) */
static void reference_forward(const attn_dims *a, const float *q, const float *k, const float *v,
                              float *w, float *y) {
    for (int i = 0; i < a->Tq; i++) {
        float *wi = w + (size_t)i * a->Tk;
        int seen = last_key(a, i) + 1;
        for (int j = 0; j < seen; j++) {           /* s_ij = q_i . k_j / sqrt(d) */
            float s = 0.0f;
            for (int c = 0; c < a->d; c++) s += q[(size_t)i * a->d + c] * k[(size_t)j * a->d + c];
            wi[j] = s * a->scale;
        }
        softmax_row(wi, seen, a->Tk);              /* a_ij */
        for (int c = 0; c < a->dv; c++) {          /* y_i = sum_j a_ij v_j */
            float s = 0.0f;
            for (int j = 0; j < seen; j++) s += wi[j] * v[(size_t)j * a->dv + c];
            y[(size_t)i * a->dv + c] = s;
        }
    }
}

/* g = dy (Tq, dv) -> dq, dk, dv (each may be NULL: not wanted) */
static void reference_backward(const attn_dims *a, const float *q, const float *k, const float *v,
                               const float *w, const float *g, float *dq, float *dk, float *dvv) {
    float *ds = nn_arena_alloc(sizeof(float) * (size_t)a->Tk);   /* one row of dS */
    for (int i = 0; i < a->Tq; i++) {
        const float *wi = w + (size_t)i * a->Tk, *gi = g + (size_t)i * a->dv;
        int seen = last_key(a, i) + 1;
        float dot = 0.0f;                          /* sum_l a_il dA_il */
        for (int j = 0; j < seen; j++) {
            float dA = 0.0f;                       /* dA_ij = g_i . v_j */
            for (int c = 0; c < a->dv; c++) dA += gi[c] * v[(size_t)j * a->dv + c];
            ds[j] = dA;
            dot += wi[j] * dA;
            if (dvv)                               /* dv_j += a_ij g_i */
                for (int c = 0; c < a->dv; c++) dvv[(size_t)j * a->dv + c] += wi[j] * gi[c];
        }
        for (int j = 0; j < seen; j++) {
            float dS = wi[j] * (ds[j] - dot) * a->scale;
            for (int c = 0; c < a->d; c++) {
                if (dq) dq[(size_t)i * a->d + c] += dS * k[(size_t)j * a->d + c];
                if (dk) dk[(size_t)j * a->d + c] += dS * q[(size_t)i * a->d + c];
            }
        }
    }
}

/* ---- fast: the same sums as matrix products ------------------------------------------------- */

static void fast_forward(const attn_dims *a, const float *q, const float *k, const float *v,
                         float *w, float *y) {
    memset(w, 0, sizeof(float) * (size_t)a->Tq * a->Tk);
    nn_kernel_gemm_nt(q, k, w, a->Tq, a->d, a->Tk);           /* S = Q K^T (Tq, Tk) */
    for (int i = 0; i < a->Tq; i++) {
        float *wi = w + (size_t)i * a->Tk;
        int seen = last_key(a, i) + 1;
        for (int j = 0; j < seen; j++) wi[j] *= a->scale;
        softmax_row(wi, seen, a->Tk);                         /* A = softmax(S / sqrt(d)) */
    }
    nn_kernel_gemm_nn(w, v, y, a->Tq, a->Tk, a->dv);          /* Y = A V (Tq, dv); y is zero */
}

static void fast_backward(const attn_dims *a, const float *q, const float *k, const float *v,
                          const float *w, const float *g, float *dq, float *dk, float *dvv,
                          float *dS) {
    if (dvv) nn_kernel_gemm_tn(w, g, dvv, a->Tk, a->Tq, a->dv); /* dV (Tk, dv) += A^T dY */
    if (!dq && !dk) return;
    memset(dS, 0, sizeof(float) * (size_t)a->Tq * a->Tk);
    nn_kernel_gemm_nt(g, v, dS, a->Tq, a->dv, a->Tk);         /* dA = dY V^T (Tq, Tk) */
    for (int i = 0; i < a->Tq; i++) {                         /* dS = A * (dA - rowsum) / sqrt(d) */
        const float *wi = w + (size_t)i * a->Tk;
        float *di = dS + (size_t)i * a->Tk, dot = 0.0f;
        for (int j = 0; j < a->Tk; j++) dot += wi[j] * di[j];
        for (int j = 0; j < a->Tk; j++) di[j] = wi[j] * (di[j] - dot) * a->scale;
    }
    if (dq) nn_kernel_gemm_nn(dS, k, dq, a->Tq, a->Tk, a->d); /* dQ (Tq, d) += dS K */
    if (dk) nn_kernel_gemm_tn(dS, q, dk, a->Tk, a->Tq, a->d); /* dK (Tk, d) += dS^T Q */
}

/* ---- the op ------------------------------------------------------------------------------ */

/* Threads for the groups when there are several and enough multiply-adds to pay for them
 * (the tiny GPT: 128 groups of 64 x 64 x 16, about 4 million per direction). */
static bool parallel_groups(const attn_dims *a) {
    return !a->reference && a->groups > 1 &&   /* (the reference takes arena memory) */
           (long)a->groups * a->Tq * a->Tk * (a->d + a->dv) > 8 * PARALLEL_MIN_ELEMENTS;
}

static float *grad_or_null(nn_tensor *t, size_t offset) {
    return WANTS_GRAD(t) ? t->grad + offset : NULL;
}

static void attention_backward(nn_node *n) {
    const attn_dims *a = n->extra;
    nn_tensor *q = n->in[0], *k = n->in[1], *v = n->in[2];
    size_t sq = (size_t)a->Tq * a->d, sk = (size_t)a->Tk * a->d, sv = (size_t)a->Tk * a->dv,
           sy = (size_t)a->Tq * a->dv, sw = (size_t)a->Tq * a->Tk;
    /* dS, one per thread (written in full before it is read) */
    float *scratch = a->reference ? NULL
                                  : nn_arena_alloc_unzeroed(sizeof(float) * sw * nn_max_threads());
#pragma omp parallel for schedule(static) if (parallel_groups(a))
    for (int b = 0; b < a->groups; b++) {
        const float *qb = q->data + b * sq, *kb = k->data + b * sk, *vb = v->data + b * sv;
        const float *wb = a->weights + b * sw, *gb = n->out->grad + b * sy;
        float *dq = grad_or_null(q, b * sq), *dk = grad_or_null(k, b * sk),
              *dv = grad_or_null(v, b * sv);
        if (a->reference) reference_backward(a, qb, kb, vb, wb, gb, dq, dk, dv);
        else fast_backward(a, qb, kb, vb, wb, gb, dq, dk, dv, scratch + sw * nn_thread_id());
    }
}

/* q, k, v agree on their leading axes and on the sizes named in the header. */
static bool shapes_fit(const nn_tensor *q, const nn_tensor *k, const nn_tensor *v) {
    if (q->ndim < 2 || k->ndim != q->ndim || v->ndim != q->ndim) return false;
    for (int i = 0; i < q->ndim - 2; i++)
        if (k->shape[i] != q->shape[i] || v->shape[i] != q->shape[i]) return false;
    int nd = q->ndim;
    return k->shape[nd - 1] == q->shape[nd - 1] && v->shape[nd - 2] == k->shape[nd - 2];
}

nn_tensor *nn_attention(nn_tensor *q, nn_tensor *k, nn_tensor *v, bool causal,
                        nn_tensor **weights) {
    if (weights) *weights = NULL;
    NN_REQUIRE(q, "nn_attention");
    NN_REQUIRE(k, "nn_attention");
    NN_REQUIRE(v, "nn_attention");
    char sq[64], sk[64], sv[64];
    if (!shapes_fit(q, k, v)) {
        nn_fail("nn_attention", "q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv) with the "
                "same leading axes", "q %s, k %s, v %s", nn_shape_str(q, sq, sizeof sq),
                nn_shape_str(k, sk, sizeof sk), nn_shape_str(v, sv, sizeof sv));
        return NULL;
    }
    int nd = q->ndim;
    attn_dims dims = {1, q->shape[nd - 2], k->shape[nd - 2], q->shape[nd - 1], v->shape[nd - 1],
                      causal, use_reference, 0.0f, NULL};
    for (int i = 0; i < nd - 2; i++) dims.groups *= q->shape[i];
    dims.scale = 1.0f / sqrtf((float)dims.d);
    if (causal && dims.Tq > dims.Tk) {
        nn_fail("nn_attention", "causal attention with no more queries than keys (the queries "
                "are the last Tq positions)", "Tq = %d, Tk = %d", dims.Tq, dims.Tk);
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, q->shape, sizeof(int) * (size_t)nd);
    shape[nd - 1] = dims.dv;
    nn_node *node;
    nn_tensor *out = nn_record("nn_attention", attention_backward, nd, shape, q, k, v, &node);
    /* the weights: a tensor the caller can read, or plain arena memory for backward */
    shape[nd - 1] = dims.Tk;
    nn_tensor *w_tensor = weights ? nn_graph_tensor(nd, shape, false) : NULL;
    size_t sw = (size_t)dims.Tq * dims.Tk;
    float *w = w_tensor ? w_tensor->data : nn_arena_alloc(sizeof(float) * sw * dims.groups);
    size_t sqs = (size_t)dims.Tq * dims.d, sks = (size_t)dims.Tk * dims.d,
           svs = (size_t)dims.Tk * dims.dv, sys = (size_t)dims.Tq * dims.dv;
#pragma omp parallel for schedule(static) if (parallel_groups(&dims))
    for (int b = 0; b < dims.groups; b++) {
        const float *qb = q->data + b * sqs, *kb = k->data + b * sks, *vb = v->data + b * svs;
        if (dims.reference) reference_forward(&dims, qb, kb, vb, w + b * sw, out->data + b * sys);
        else fast_forward(&dims, qb, kb, vb, w + b * sw, out->data + b * sys);
    }
    if (node) {
        attn_dims *saved = nn_arena_alloc(sizeof *saved);
        *saved = dims;
        saved->weights = w;
        node->extra = saved;
    }
    if (weights) *weights = w_tensor;
    return out;
}
