/* src/net/lora.c — LoRA, bottleneck adapters and QLoRA's 4-bit base (the formulas are in
 * include/nn/net/lora.h). Shapes: N rows (or B, T), in / out the adapted layer's, r the rank,
 * C the model width, m the adapter's bottleneck. */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/matmul.h"
#include "nn/ops/quant.h"
#include "nn/data/checkpoint.h"
#include "nn/net/lora.h"

/* uniform(+-1/sqrt(fan_in)): PyTorch's default for a Linear weight (kaiming_uniform_ with
 * a = sqrt(5)), which is what PEFT gives LoRA's A. */
static void fill_fan_in(nn_tensor *w, int fan_in) {
    float bound = 1.0f / sqrtf((float)fan_in);
    nn_fill_uniform(w, -bound, bound, NULL);
}

/* ---- one LoRA -------------------------------------------------------------------------------- */

static bool lora_args_ok(const char *op, const nn_linear_layer *base, int col, int cols,
                         int rank, float alpha) {
    if (col < 0 || cols < 1 || col + cols > base->out) {
        nn_fail(op, "columns col .. col+cols-1 of the layer's output (0 and layer->out for all "
                "of it)", "col = %d, cols = %d, the layer has %d outputs", col, cols, base->out);
        return false;
    }
    int most = base->in < cols ? base->in : cols;
    if (rank < 1 || rank > most) {
        nn_fail(op, "a rank r in 1 .. min(in, out): a low-rank change (r = 1 .. 8 is usual)",
                "rank %d for a (%d, %d) weight", rank, base->in, cols);
        return false;
    }
    if (!(alpha >= 0.0f && isfinite(alpha))) {
        nn_fail(op, "alpha > 0 (scale = alpha / r), or 0 for alpha = r", "alpha = %g",
                (double)alpha);
        return false;
    }
    return true;
}

/* Fill in l and make its parameters "<name>.A" (in, r), random, and "<name>.B" (r, out), zero. */
static bool lora_init(nn_lora *l, nn_model *m, const char *name, nn_linear_layer *base, int col,
                      int cols, int rank, float alpha) {
    char pname[256];
    l->base = base;
    l->col = col, l->in = base->in, l->out = cols, l->rank = rank;
    l->alpha = alpha > 0.0f ? alpha : (float)rank;
    l->scale = l->alpha / (float)rank;
    snprintf(pname, sizeof pname, "%s.A", name);
    l->A = nn_model_param(m, pname, 2, (int[]){l->in, rank}, true);
    snprintf(pname, sizeof pname, "%s.B", name);
    l->B = nn_model_param(m, pname, 2, (int[]){rank, cols}, true);
    if (!l->A || !l->B) return false;
    fill_fan_in(l->A, l->in);   /* B stays zero: A B = 0, the base's outputs exactly */
    return true;
}

nn_lora *nn_lora_new(nn_model *m, const char *name, nn_linear_layer *base, int col, int cols,
                     int rank, float alpha) {
    NN_REQUIRE(m, "nn_lora_new");
    NN_REQUIRE(base, "nn_lora_new");
    if (!lora_args_ok("nn_lora_new", base, col, cols, rank, alpha)) return NULL;
    nn_lora *l = nn_model_alloc(m, sizeof *l);
    return lora_init(l, m, name ? name : "lora", base, col, cols, rank, alpha) ? l : NULL;
}

/* y + s (x A) B. The scale goes on x A (N, r), the smallest of the three products. */
nn_tensor *nn_lora_forward(const nn_lora *l, nn_tensor *x, nn_tensor *y) {
    if (!l) return y;                                          /* no LoRA here */
    NN_REQUIRE(x, "nn_lora_forward");
    NN_REQUIRE(y, "nn_lora_forward");
    if (x->ndim < 2 || x->shape[x->ndim - 1] != l->in || y->shape[y->ndim - 1] != l->out ||
        x->size / l->in != y->size / l->out) {
        nn_fail("nn_lora_forward", "x (..., in): the adapted layer's input; y (..., out): the "
                "output columns it adapts, the same rows", "x %s, y %s for a LoRA with in = "
                "%d, out = %d", SHAPE(x), SHAPE(y), l->in, l->out);
        return NULL;
    }
    nn_tensor *xa = nn_mul_scalar(nn_matmul(x, l->A), l->scale);   /* (..., r) */
    return nn_add(y, nn_matmul(xa, l->B));                         /* (..., out) */
}

nn_tensor *nn_lora_linear_forward(const nn_linear_layer *layer, const nn_lora *l, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_lora_linear_forward");
    if (l && (l->base != layer || l->col != 0 || l->out != layer->out)) {
        nn_fail("nn_lora_linear_forward", "a LoRA made for this layer and all its columns (for "
                "a range of them add nn_lora_forward to those columns)", "the LoRA adapts "
                "columns %d .. %d of %s layer; this one has %d", l->col, l->col + l->out - 1,
                l->base == layer ? "this" : "another", layer->out);
        return NULL;
    }
    return nn_lora_forward(l, x, nn_linear_layer_forward(layer, x));   /* (..., out) */
}

/* W[i, col + j] += s sum_k A[i, k] B[k, j]   W (in, W_out)  A (in, r)  B (r, out) */
int nn_lora_merge(nn_lora *l) {
    NN_REQUIRE_OR(l, "nn_lora_merge", -1);
    nn_tensor *W = l->base->W;
    int width = l->base->out, r = l->rank;
    for (int i = 0; i < l->in; i++) {
        const float *a = l->A->data + (size_t)i * r;
        float *w = W->data + (size_t)i * width + l->col;
        for (int j = 0; j < l->out; j++) {
            float s = 0.0f;
            for (int k = 0; k < r; k++) s += a[k] * l->B->data[(size_t)k * l->out + j];
            w[j] += l->scale * s;
        }
    }
    memset(l->B->data, 0, l->B->size * sizeof(float));   /* its part is in W now */
    return 0;
}

/* ---- a bottleneck adapter --------------------------------------------------------------- */

static bool linear_init(nn_linear_layer *lin, nn_model *m, const char *name, const char *part,
                        int in, int out) {
    char pname[256];
    lin->in = in, lin->out = out;
    snprintf(pname, sizeof pname, "%s.%s.W", name, part);
    lin->W = nn_model_param(m, pname, 2, (int[]){in, out}, true);
    snprintf(pname, sizeof pname, "%s.%s.b", name, part);
    lin->b = nn_model_param(m, pname, 1, (int[]){out}, false);
    return lin->W && lin->b;
}

static bool adapter_init(nn_adapter *a, nn_model *m, const char *name, int dim, int bottleneck) {
    a->dim = dim, a->bottleneck = bottleneck;
    if (!linear_init(&a->down, m, name, "down", dim, bottleneck) ||
        !linear_init(&a->up, m, name, "up", bottleneck, dim))
        return false;
    fill_fan_in(a->down.W, dim);   /* up stays zero: the adapter starts as the identity */
    return true;
}

static bool adapter_args_ok(const char *op, int dim, int bottleneck) {
    if (dim < 1 || bottleneck < 1 || bottleneck > dim) {
        nn_fail(op, "a bottleneck of 1 .. dim units (narrower than what it adapts)",
                "dim = %d, bottleneck = %d", dim, bottleneck);
        return false;
    }
    return true;
}

nn_adapter *nn_adapter_new(nn_model *m, const char *name, int dim, int bottleneck) {
    NN_REQUIRE(m, "nn_adapter_new");
    if (!adapter_args_ok("nn_adapter_new", dim, bottleneck)) return NULL;
    nn_adapter *a = nn_model_alloc(m, sizeof *a);
    return adapter_init(a, m, name ? name : "adapter", dim, bottleneck) ? a : NULL;
}

/* h + GELU(h Wd + bd) Wu + bu:  h (..., C) -> (..., m) -> (..., C) */
nn_tensor *nn_adapter_forward(const nn_adapter *a, nn_tensor *h) {
    NN_REQUIRE(a, "nn_adapter_forward");
    nn_tensor *mid = nn_gelu_tanh(nn_linear_layer_forward(&a->down, h));   /* (..., m) */
    return nn_add(h, nn_linear_layer_forward(&a->up, mid));                 /* (..., C) */
}

/* ---- on a GPT ---------------------------------------------------------------------------- */

static const char *const target_name[6] = {"q", "k", "v", "out", "fc", "proj"};

/* Target t (0 .. 5 as the NN_LORA_* bits) of block b: the layer, and its columns. */
static nn_linear_layer *target_layer(nn_transformer_block *b, int t, int *col, int *cols) {
    int C = b->attn->dim;
    *col = 0;
    switch (t) {
    case 0: case 1: case 2: *col = t * C, *cols = C; return b->attn->qkv;   /* Wqkv's thirds */
    case 3: *cols = C; return b->attn->out;
    case 4: *cols = b->fc->out; return b->fc;
    default: *cols = C; return b->proj;
    }
}

/* Where block b's forward looks for target t's LoRA (attention.c, transformer.c). */
static nn_lora **target_slot(nn_transformer_block *b, int t) {
    switch (t) {
    case 0: case 1: case 2: return &b->attn->lora_qkv[t];
    case 3: return &b->attn->lora_out;
    case 4: return &b->lora_fc;
    default: return &b->lora_proj;
    }
}

static void detach_all(nn_gpt *gpt) {
    for (int l = 0; l < gpt->cfg.layers; l++) {
        for (int t = 0; t < 6; t++) *target_slot(gpt->blocks[l], t) = NULL;
        gpt->blocks[l]->adapter = NULL;
    }
}

static int count_params(const nn_gpt_adapters *a, int layers) {
    return 2 * a->n_lora + (a->adapter ? 4 * layers : 0);
}

/* Back to the base: no pointers to the adapters, no parameters of theirs, the base trainable. */
static void take_out(nn_gpt *gpt) {
    detach_all(gpt);
    nn_model_drop_params(gpt->model, gpt->adapters->first_param);   /* the adapters' are the last */
    nn_model_unfreeze(gpt->model, "");
    free(gpt->adapters);
    gpt->adapters = NULL;
}

static bool config_ok(const nn_gpt *gpt, const nn_gpt_lora_config *c) {
    const char *op = "nn_gpt_lora_attach";
    if (gpt->adapters) {
        nn_fail(op, "one set of adapters at a time: nn_gpt_lora_merge or nn_gpt_lora_remove "
                "first", "this GPT has adapters attached already");
        return false;
    }
    if ((c->targets & ~(unsigned)NN_LORA_ALL) || (c->targets == 0 && c->bottleneck == 0) ||
        c->bottleneck < 0) {
        nn_fail(op, "targets: NN_LORA_Q | NN_LORA_V ... (bits of NN_LORA_ALL), and/or a "
                "bottleneck > 0 for adapters", "targets = 0x%x, bottleneck = %d", c->targets,
                c->bottleneck);
        return false;
    }
    nn_transformer_block *b = gpt->blocks[0];
    for (int t = 0; t < 6; t++) {
        if (!(c->targets >> t & 1)) continue;
        int col, cols;
        const nn_linear_layer *layer = target_layer(b, t, &col, &cols);
        if (!lora_args_ok(op, layer, col, cols, c->rank, c->alpha)) return false;
    }
    return c->bottleneck == 0 || adapter_args_ok(op, gpt->cfg.dim, c->bottleneck);
}

int nn_gpt_lora_attach(nn_gpt *gpt, const nn_gpt_lora_config *cfg) {
    const char *op = "nn_gpt_lora_attach";
    NN_REQUIRE_OR(gpt, op, -1);
    NN_REQUIRE_OR(cfg, op, -1);
    if (!config_ok(gpt, cfg)) return -1;
    int L = gpt->cfg.layers, per_block = 0;
    for (int t = 0; t < 6; t++) per_block += cfg->targets >> t & 1;
    /* One allocation: the record, its LoRAs, its adapters (nn_gpt_free frees it with free) */
    size_t bytes = sizeof(nn_gpt_adapters) + sizeof(nn_lora) * (size_t)(per_block * L) +
                   (cfg->bottleneck ? sizeof(nn_adapter) * (size_t)L : 0);
    nn_gpt_adapters *a = nn_xcalloc(1, bytes);
    a->cfg = *cfg;
    a->cfg.alpha = cfg->alpha > 0.0f ? cfg->alpha : (float)cfg->rank;
    a->lora = (nn_lora *)(a + 1);
    a->adapter = cfg->bottleneck ? (nn_adapter *)(a->lora + per_block * L) : NULL;
    nn_model *m = gpt->model;
    nn_model_freeze(m, "");                 /* the base: constants from now on */
    a->first_param = m->nparams;
    a->base_count = m->count;
    gpt->adapters = a;
    bool ok = true;
    for (int l = 0; ok && l < L; l++) {
        nn_transformer_block *b = gpt->blocks[l];
        char name[64];
        for (int t = 0; ok && t < 6; t++) {
            if (!(cfg->targets >> t & 1)) continue;
            int col, cols;
            nn_linear_layer *layer = target_layer(b, t, &col, &cols);
            nn_lora *lo = &a->lora[a->n_lora++];
            snprintf(name, sizeof name, "lora.block%d.%s", l, target_name[t]);
            ok = lora_init(lo, m, name, layer, col, cols, cfg->rank, a->cfg.alpha);
            *target_slot(b, t) = lo;
        }
        if (ok && a->adapter) {
            snprintf(name, sizeof name, "adapter.block%d", l);
            ok = adapter_init(&a->adapter[l], m, name, gpt->cfg.dim, cfg->bottleneck);
            b->adapter = &a->adapter[l];
        }
    }
    if (!ok) {   /* a parameter was refused (out of memory): leave the GPT as it was */
        take_out(gpt);
        return -1;
    }
    return 0;
}

size_t nn_gpt_lora_count(const nn_gpt *gpt) {
    NN_REQUIRE_OR(gpt, "nn_gpt_lora_count", 0);
    return gpt->adapters ? gpt->model->count - gpt->adapters->base_count : 0;
}

/* Are the model's last parameters still exactly the adapters'? */
static bool still_last(const nn_gpt *gpt, const char *op) {
    const nn_gpt_adapters *a = gpt->adapters;
    if (gpt->model->nparams == a->first_param + count_params(a, gpt->cfg.layers)) return true;
    nn_fail(op, "add no parameters to gpt->model after nn_gpt_lora_attach", "the model has %d "
            "parameters; the base had %d and the adapters %d", gpt->model->nparams,
            a->first_param, count_params(a, gpt->cfg.layers));
    return false;
}

int nn_gpt_lora_remove(nn_gpt *gpt) {
    NN_REQUIRE_OR(gpt, "nn_gpt_lora_remove", -1);
    if (!gpt->adapters) return 0;
    if (!still_last(gpt, "nn_gpt_lora_remove")) return -1;
    take_out(gpt);
    return 0;
}

int nn_gpt_lora_merge(nn_gpt *gpt) {
    const char *op = "nn_gpt_lora_merge";
    NN_REQUIRE_OR(gpt, op, -1);
    const nn_gpt_adapters *a = gpt->adapters;
    if (!a || a->n_lora == 0 || a->adapter) {
        nn_fail(op, "LoRAs to merge, and no bottleneck adapter (its GELU is not linear, so it "
                "cannot fold into a weight: nn_gpt_lora_remove takes it out)", "%s",
                !a ? "nothing is attached" : a->n_lora == 0 ? "only adapters are attached"
                                                            : "bottleneck adapters are attached");
        return -1;
    }
    if (!still_last(gpt, op)) return -1;
    for (int i = 0; i < a->n_lora; i++) nn_lora_merge(&a->lora[i]);
    take_out(gpt);
    return 0;
}

/* ---- the adapters' own checkpoint --------------------------------------------------------- */

/* A model holding a copy of the adapters' parameters (their values when `values`), and
 * "lora.alpha" when there are LoRAs: what an adapter file holds. */
static nn_model *adapter_checkpoint_model(const nn_gpt *gpt, bool values) {
    const nn_model *m = gpt->model;
    const nn_gpt_adapters *a = gpt->adapters;
    nn_model *c = nn_model_new();
    for (int p = a->first_param; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        nn_tensor *copy = nn_model_param(c, t->name, t->ndim, t->shape, m->decay[p]);
        if (!copy) {
            nn_model_free(c);
            return NULL;
        }
        if (values) memcpy(copy->data, t->data, t->size * sizeof(float));
    }
    if (a->n_lora) {   /* the scale is alpha / r: a file of another alpha must not fit */
        nn_tensor *alpha = nn_model_param(c, "lora.alpha", 1, (int[]){1}, false);
        if (!alpha) {
            nn_model_free(c);
            return NULL;
        }
        alpha->data[0] = values ? a->cfg.alpha : 0.0f;
    }
    return c;
}

static bool have_adapters(const nn_gpt *gpt, const char *op) {
    if (gpt->adapters) return true;
    nn_fail(op, "attach adapters first (nn_gpt_lora_attach with the config they were made "
            "with)", "this GPT has none");
    return false;
}

int nn_gpt_lora_save(const nn_gpt *gpt, const char *path) {
    NN_REQUIRE_OR(gpt, "nn_gpt_lora_save", -1);
    if (!have_adapters(gpt, "nn_gpt_lora_save")) return -1;
    nn_model *c = adapter_checkpoint_model(gpt, true);
    int rc = c ? nn_model_save(c, path) : -1;
    nn_model_free(c);
    return rc;
}

int nn_gpt_lora_load(nn_gpt *gpt, const char *path) {
    NN_REQUIRE_OR(gpt, "nn_gpt_lora_load", -1);
    if (!have_adapters(gpt, "nn_gpt_lora_load")) return -1;
    nn_model *c = adapter_checkpoint_model(gpt, false);
    if (!c || nn_model_load(c, path) != 0) {   /* names, shapes, checksum: nn_model_load's */
        nn_model_free(c);
        return -1;
    }
    const nn_gpt_adapters *a = gpt->adapters;
    nn_tensor *alpha = a->n_lora ? nn_model_find(c, "lora.alpha") : NULL;
    if (alpha && alpha->data[0] != a->cfg.alpha) {
        nn_set_last_error("nn_gpt_lora_load: '%s' holds LoRAs of alpha %g, the attached ones "
                          "have alpha %g (scale alpha / r): attach with the alpha it was "
                          "trained with", path, (double)alpha->data[0], (double)a->cfg.alpha);
        nn_model_free(c);
        return -1;
    }
    for (int p = a->first_param; p < gpt->model->nparams; p++) {
        nn_tensor *t = gpt->model->params[p];
        memcpy(t->data, nn_model_find(c, t->name)->data, t->size * sizeof(float));
    }
    nn_model_free(c);
    return 0;
}

/* ---- QLoRA's 4-bit base -------------------------------------------------------------------- */

/* Bytes of parameter t stored as int4 in groups along its inputs, as nn/ops/quant.h views it:
 * (out, in) rows of output channels (a 2-D (in, out) weight transposed). */
static double q4_bytes(const nn_tensor *t, int group) {
    size_t rows = t->ndim == 2 ? (size_t)t->shape[1] : (size_t)t->shape[0];
    size_t cols = t->size / rows;
    return (double)nn_q4_packed_bytes(rows, cols) +
           4.0 * (double)rows * (double)nn_q4_groups(cols, group);
}

double nn_gpt_quantize_base(nn_gpt *gpt, int group) {
    const char *op = "nn_gpt_quantize_base";
    NN_REQUIRE_OR(gpt, op, -1.0);
    if (group < 1) {
        nn_fail(op, "a group of >= 1 weights per scale (32 .. 128 is usual)", "group = %d",
                group);
        return -1.0;
    }
    nn_model *m = gpt->model;
    int n = gpt->adapters ? gpt->adapters->first_param : m->nparams;   /* the base only */
    double bytes = 0.0;
    for (int p = 0; p < n; p++) {
        int rc = nn_quant_roundtrip_param(m, p, 4, group);
        if (rc < 0) return -1.0;
        bytes += rc == 1 ? q4_bytes(m->params[p], group) : 4.0 * (double)m->params[p]->size;
    }
    return bytes;
}
