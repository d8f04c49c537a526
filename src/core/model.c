/* src/core/model.c — the parameter block: every parameter of a model in one allocation. */
#include "internal.h"
#include <stdio.h>

nn_model *nn_model_new(void) { return nn_xcalloc(1, sizeof(nn_model)); }

void nn_model_free(nn_model *m) {
    if (!m) return;
    for (int i = 0; i < m->nparams; i++) {
        free((char *)m->params[i]->name);
        free(m->params[i]);
    }
    for (int i = 0; i < m->nblocks; i++) free(m->blocks[i]);
    free(m->params);
    free(m->decay);
    free(m->blocks);
    free(m->data);
    free(m->grad);
    free(m);
}

void nn_model_drop_params(nn_model *m, int first) {
    for (int p = m->nparams - 1; p >= first; p--) {
        m->count -= m->params[p]->size;
        free((char *)m->params[p]->name);
        free(m->params[p]);
    }
    m->nparams = first;
}

/* Grow the block to hold `need` floats, then point every parameter at its new slice.
 * false when the system has no memory for it (the parameters stay as they were). */
static bool reserve_floats(nn_model *m, size_t need) {
    if (need <= m->capacity) return true;
    size_t cap = m->capacity ? m->capacity : 1024;
    while (cap < need) cap *= 2;
    float *data = realloc(m->data, cap * sizeof(float));
    float *grad = data ? realloc(m->grad, cap * sizeof(float)) : NULL;
    if (data) m->data = data;   /* (if only grad failed, data moved: still point at it) */
    if (grad) {
        m->grad = grad;
        m->capacity = cap;
    }
    size_t offset = 0;
    for (int i = 0; i < m->nparams; i++) {
        m->params[i]->data = m->data + offset;
        m->params[i]->grad = m->grad + offset;
        offset += m->params[i]->size;
    }
    return grad != NULL;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = nn_xmalloc(n);
    memcpy(c, s, n);
    return c;
}

nn_tensor *nn_model_param(nn_model *m, const char *name, int ndim, const int *shape, bool decay) {
    NN_REQUIRE(m, "nn_model_param");
    if (!name) name = "param";
    if (nn_model_find(m, name)) {
        nn_fail("nn_model_param", "give each layer its own name, e.g. \"fc1\", \"fc2\"",
                "a parameter named \"%s\" already exists", name);
        return NULL;
    }
    nn_tensor probe = {0};
    if (ndim < 0 || ndim > NN_MAX_DIMS) {
        nn_fail("nn_model_param", "tensors have 0 to 4 dims", "ndim %d out of range", ndim);
        return NULL;
    }
    size_t size = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1 || size > NN_MAX_ELEMENTS / (size_t)shape[d]) {
            nn_fail("nn_model_param", "every dim needs at least one element, and the total "
                    "at most 2^40", "parameter \"%s\" dim %d has size %d", name, d, shape[d]);
            return NULL;
        }
        size *= (size_t)shape[d];
    }
    nn_set_shape(&probe, ndim, shape);
    if (!reserve_floats(m, m->count + size)) {
        nn_fail("nn_model_param", "a parameter of N elements takes 8N bytes (values and "
                "gradients): use smaller layers",
                "out of memory: parameter \"%s\" of shape %s needs %s (the model holds %zu "
                "floats already)", name, SHAPE(&probe), BYTES((double)size * 2 * sizeof(float)),
                m->count);
        return NULL;
    }

    if (m->nparams == m->cap_params) {
        m->cap_params = m->cap_params ? 2 * m->cap_params : 16;
        m->params = nn_xrealloc(m->params, (size_t)m->cap_params * sizeof *m->params);
        m->decay = nn_xrealloc(m->decay, (size_t)m->cap_params * sizeof *m->decay);
    }
    nn_tensor *t = nn_xcalloc(1, sizeof *t);
    *t = probe;
    t->name = copy_string(name);
    t->requires_grad = true;
    t->owner = NN_OWNER_MODEL;
    t->model = m;
    m->params[m->nparams] = t;
    m->decay[m->nparams] = decay;
    m->nparams++;
    t->data = m->data + m->count;
    t->grad = m->grad + m->count;
    memset(t->data, 0, t->size * sizeof(float));
    memset(t->grad, 0, t->size * sizeof(float));
    m->count += t->size;
    return t;
}

void *nn_model_alloc(nn_model *m, size_t bytes) {
    NN_REQUIRE(m, "nn_model_alloc");
    if (m->nblocks == m->cap_blocks) {
        m->cap_blocks = m->cap_blocks ? 2 * m->cap_blocks : 16;
        m->blocks = nn_xrealloc(m->blocks, (size_t)m->cap_blocks * sizeof *m->blocks);
    }
    void *p = nn_xcalloc(1, bytes);
    m->blocks[m->nblocks++] = p;
    return p;
}

void nn_model_zero_grad(nn_model *m) {
    NN_REQUIRE_OR(m, "nn_model_zero_grad", );
    nn_zero_floats(m->grad, m->count);
    for (int p = 0; p < m->nparams; p++) m->params[p]->grad_state = 0;   /* see nn_backward */
}

nn_tensor *nn_model_find(const nn_model *m, const char *name) {
    NN_REQUIRE(m, "nn_model_find");
    NN_REQUIRE(name, "nn_model_find");
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i]->name, name) == 0) return m->params[i];
    return NULL;
}

/* sum of g[i]^2 in double, in 8 running sums (one chain of additions would wait on each
 * one before the next: 4 cycles an element), over blocks of SQ_BLOCK that the threads share,
 * added up in block order: the same bits on any number of threads */
enum { SQ_LANES = 8, SQ_BLOCK = 1 << 14 };

static double block_squares(const float *g, size_t n) {
    double part[SQ_LANES] = {0};
    size_t i = 0;
    for (; i + SQ_LANES <= n; i += SQ_LANES)
        for (int l = 0; l < SQ_LANES; l++) part[l] += (double)g[i + l] * g[i + l];
    double s = 0.0;
    for (; i < n; i++) s += (double)g[i] * g[i];
    for (int l = 0; l < SQ_LANES; l++) s += part[l];
    return s;
}

static double sum_squares(const float *g, size_t n) {
    size_t blocks = (n + SQ_BLOCK - 1) / SQ_BLOCK;
    if (blocks <= 1) return block_squares(g, n);
    double *part = nn_xmalloc(blocks * sizeof(double));
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_ELEMENTS)
    for (size_t b = 0; b < blocks; b++) {
        size_t lo = b * SQ_BLOCK, len = n - lo < SQ_BLOCK ? n - lo : SQ_BLOCK;
        part[b] = block_squares(g + lo, len);
    }
    double s = 0.0;
    for (size_t b = 0; b < blocks; b++) s += part[b];
    free(part);
    return s;
}

float nn_model_grad_norm(const nn_model *m) {
    NN_REQUIRE_OR(m, "nn_model_grad_norm", NAN);
    double s = 0.0;
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        if (!t->requires_grad) continue;   /* frozen */
        s += sum_squares(t->grad, t->size);
    }
    return (float)sqrt(s);
}

/* ---- frozen parameters ----------------------------------------------------------------------
 * A frozen parameter is one whose requires_grad is false: ops then treat it as a constant
 * (backward computes no gradient for it), and optimizers, clipping, penalties and the
 * gradient norm pass it by. */

static int set_trainable(const char *op, nn_model *m, const char *prefix, bool on) {
    NN_REQUIRE_OR(m, op, -1);
    size_t plen = prefix ? strlen(prefix) : 0;
    int matched = 0;
    for (int p = 0; p < m->nparams; p++) {
        nn_tensor *t = m->params[p];
        if (plen && strncmp(t->name, prefix, plen) != 0) continue;
        t->requires_grad = on;
        if (!on) {
            memset(t->grad, 0, t->size * sizeof(float));
            t->grad_state = 0;
        }
        matched++;
    }
    return matched;
}

int nn_model_freeze(nn_model *m, const char *prefix) {
    return set_trainable("nn_model_freeze", m, prefix, false);
}
int nn_model_unfreeze(nn_model *m, const char *prefix) {
    return set_trainable("nn_model_unfreeze", m, prefix, true);
}

size_t nn_model_trainable_count(const nn_model *m) {
    NN_REQUIRE_OR(m, "nn_model_trainable_count", 0);
    size_t n = 0;
    for (int p = 0; p < m->nparams; p++)
        if (m->params[p]->requires_grad) n += m->params[p]->size;
    return n;
}

float nn_model_weight_norm(const nn_model *m) {
    NN_REQUIRE_OR(m, "nn_model_weight_norm", NAN);
    double s = 0.0;
    for (int p = 0; p < m->nparams; p++) {
        if (!m->decay[p]) continue;
        const nn_tensor *t = m->params[p];
        for (size_t i = 0; i < t->size; i++) s += (double)t->data[i] * t->data[i];
    }
    return (float)sqrt(s);
}

bool nn_model_check_finite(const nn_model *m) {
    if (!m) {
        nn_set_last_error("nn_model_check_finite: the model is NULL");
        return false;
    }
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        char bad[256];
        if (nn_nonfinite_str(t, t->data, false, bad, sizeof bad) ||
            nn_nonfinite_str(t, t->grad, true, bad, sizeof bad)) {
            nn_set_last_error("parameter '%s': %s", t->name, bad);
            return false;
        }
    }
    return true;
}

void nn_model_summary(const nn_model *m, FILE *f) {
    NN_REQUIRE_OR(m, "nn_model_summary", );
    NN_REQUIRE_OR(f, "nn_model_summary", );
    fprintf(f, "  %-20s %-16s %10s\n", "parameter", "shape", "count");
    for (int i = 0; i < m->nparams; i++) {
        char s[64];
        fprintf(f, "  %-20s %-16s %10zu%s\n", m->params[i]->name,
                nn_shape_str(m->params[i], s, sizeof s), m->params[i]->size,
                m->params[i]->requires_grad ? "" : "  (frozen)");
    }
    fprintf(f, "  %-20s %-16s %10zu\n", "total", "", m->count);
    size_t trainable = nn_model_trainable_count(m);
    if (trainable != m->count)
        fprintf(f, "  %-20s %-16s %10zu\n", "trainable", "", trainable);
}
