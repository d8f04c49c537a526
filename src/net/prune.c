/* src/net/prune.c — magnitude pruning masks (see nn/net/prune.h for the why).
 *
 * The ranking: every candidate weight becomes a pair (|w|, place in the model's block), sorted
 * by |w| and then by place; the first round(s * n) pairs are pruned. A strict order, so ties
 * are broken the same way every time. Per layer, each tensor sorts its own pairs; globally, the
 * pairs of all chosen tensors are sorted together. O(n log n) for n candidate weights.
 */
#include "internal.h"
#include "nn/net/prune.h"

typedef struct ranked {
    float mag;       /* |w| */
    size_t place;    /* index in model->data */
} ranked;

static int by_magnitude(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->mag != b->mag) return a->mag < b->mag ? -1 : 1;
    return (a->place > b->place) - (a->place < b->place);
}

/* Rank r[0 .. n) and prune the first round(s * n): keep[place] = 0, the weight = 0. Returns how
 * many were kept. */
static size_t prune_smallest(nn_model *m, unsigned char *keep, ranked *r, size_t n, float s) {
    qsort(r, n, sizeof *r, by_magnitude);
    size_t cut = (size_t)llround((double)s * (double)n);
    for (size_t k = 0; k < cut; k++) {
        keep[r[k].place] = 0;
        m->data[r[k].place] = 0.0f;
    }
    return n - cut;
}

static bool is_candidate(const nn_model *m, int p, const char *prefix, size_t plen) {
    return m->decay[p] && (!plen || strncmp(m->params[p]->name, prefix, plen) == 0);
}

nn_prune_mask *nn_prune_magnitude(nn_model *m, const char *prefix, float sparsity,
                                  nn_prune_scope scope) {
    const char *op = "nn_prune_magnitude";
    NN_REQUIRE(m, op);
    if (!(sparsity >= 0.0f && sparsity <= 1.0f)) {
        nn_fail(op, "the sparsity is the fraction of weights set to 0: 0.9 keeps 1 in 10",
                "sparsity %g is outside [0, 1]", sparsity);
        return NULL;
    }
    if (scope != NN_PRUNE_LAYER && scope != NN_PRUNE_GLOBAL) {
        nn_fail(op, "NN_PRUNE_LAYER (the same fraction in every tensor) or NN_PRUNE_GLOBAL "
                "(one threshold over all)", "scope %d is neither", (int)scope);
        return NULL;
    }
    size_t plen = prefix ? strlen(prefix) : 0, total = 0, largest = 0;
    for (int p = 0; p < m->nparams; p++) {
        if (!is_candidate(m, p, prefix, plen)) continue;
        const nn_tensor *t = m->params[p];
        size_t bad = nn_find_nonfinite(t->data, t->size);
        if (bad < t->size) {
            char where[64];
            nn_fail(op, "a model that diverged cannot be ranked by |w|; nn_model_check_finite "
                    "finds the first bad value", "weight '%s' holds %g at %s", t->name,
                    t->data[bad], nn_index_str(t, bad, where, sizeof where));
            return NULL;
        }
        total += t->size;
        if (t->size > largest) largest = t->size;
    }
    if (total == 0) {
        nn_fail(op, "only weight tensors are pruned (biases are not); names look like "
                "\"fc1.W\", and NULL or \"\" picks every weight",
                "no weight tensor of the model's %d parameters has a name starting with '%s'",
                m->nparams, prefix ? prefix : "");
        return NULL;
    }

    nn_prune_mask *mask = nn_xcalloc(1, sizeof *mask);
    mask->model = m;
    mask->count = m->count;
    mask->total = total;
    mask->keep = nn_xmalloc(m->count);
    memset(mask->keep, 1, m->count);
    mask->chosen = nn_xcalloc((size_t)m->nparams, sizeof(bool));
    ranked *r = nn_xmalloc((scope == NN_PRUNE_GLOBAL ? total : largest) * sizeof *r);
    size_t n = 0;
    for (int p = 0; p < m->nparams; p++) {
        if (!is_candidate(m, p, prefix, plen)) continue;
        const nn_tensor *t = m->params[p];
        size_t base = (size_t)(t->data - m->data);
        mask->chosen[p] = true;
        for (size_t i = 0; i < t->size; i++) r[n++] = (ranked){fabsf(t->data[i]), base + i};
        if (scope == NN_PRUNE_LAYER) {   /* this tensor on its own */
            mask->kept += prune_smallest(m, mask->keep, r, n, sparsity);
            n = 0;
        }
    }
    if (scope == NN_PRUNE_GLOBAL) mask->kept = prune_smallest(m, mask->keep, r, n, sparsity);
    free(r);
    return mask;
}

static bool mask_ok(const char *op, const nn_prune_mask *mask) {
    if (mask->model->count != mask->count) {
        nn_fail(op, "make the mask after the whole model is built",
                "the model has %zu parameter floats now but had %zu when the mask was made",
                mask->model->count, mask->count);
        return false;
    }
    return true;
}

void nn_prune_apply(const nn_prune_mask *mask) {
    NN_REQUIRE_OR(mask, "nn_prune_apply", );
    if (!mask_ok("nn_prune_apply", mask)) return;
    const nn_model *m = mask->model;
    for (int p = 0; p < m->nparams; p++) {
        if (!mask->chosen[p]) continue;
        nn_tensor *t = m->params[p];
        const unsigned char *keep = mask->keep + (t->data - m->data);
        /* a select, not w * mask: 0 * inf would be NaN, and the point is an exact 0 */
        for (size_t i = 0; i < t->size; i++)
            if (!keep[i]) t->data[i] = 0.0f;
    }
}

size_t nn_prune_kept(const nn_prune_mask *mask, const nn_tensor *param) {
    NN_REQUIRE_OR(mask, "nn_prune_kept", 0);
    if (!mask_ok("nn_prune_kept", mask)) return 0;
    if (!param) return mask->kept;
    const nn_model *m = mask->model;
    for (int p = 0; p < m->nparams; p++) {
        if (m->params[p] != param) continue;
        const unsigned char *keep = mask->keep + (param->data - m->data);
        size_t kept = 0;
        for (size_t i = 0; i < param->size; i++) kept += keep[i];
        return kept;
    }
    nn_fail("nn_prune_kept", "pass a parameter of the pruned model (e.g. layer->W), or NULL for "
            "all chosen tensors", "'%s' is not a parameter of the mask's model",
            param->name ? param->name : "(unnamed tensor)");
    return 0;
}

void nn_prune_free(nn_prune_mask *mask) {
    if (!mask) return;
    free(mask->keep);
    free(mask->chosen);
    free(mask);
}
