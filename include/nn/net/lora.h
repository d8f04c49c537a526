/* nn/net/lora.h — LoRA (低秩适配), QLoRA and bottleneck adapters (适配器): fine-tune a model by
 * training a few new numbers beside it while its own weights stay frozen.
 *
 * LoRA (Hu et al. 2021). A linear layer's weight W (in, out) is left as it is; beside it sit
 * two small matrices A (in, r) and B (r, out) of a rank r much smaller than in and out, and
 * the layer computes
 *     y = x W + b + s (x A) B,   s = alpha / r          x (N, in)  x A (N, r)  y (N, out)
 * as if its weight were W + s A B: a change of rank at most r, made of r (in + out) numbers
 * instead of in * out. A starts random, B at zero, so the adapted model starts exactly equal
 * to the base, and training moves only A and B. Merging folds the change in, W += s A B:
 * the model is then an ordinary one again, as fast as the base, computing the same numbers
 * up to float rounding. (The paper writes W as (out, in): h = W0 x + B A x with B (out, r),
 * A (r, in). Here W is (in, out) with samples as rows, so the same product reads x A B.)
 * The paper adapts Wq and Wv of every attention layer; the attention layer here has ONE fused
 * matrix Wqkv (C, 3C) (nn/net/attention.h), so a LoRA may adapt a range of a layer's output
 * columns: q is columns 0 .. C-1, k C .. 2C-1, v 2C .. 3C-1.
 *
 * Bottleneck adapter (Houlsby et al. 2019): a small residual MLP after a sublayer,
 *     adapter(h) = h + GELU(h Wdown + bdown) Wup + bup       h (N, C) -> (N, m) -> (N, C)
 * Wup and bup start at zero, so it starts as the identity. nn_gpt_lora_attach puts one after
 * each block's feed-forward, before the residual add (one per block, not Houlsby's two:
 * Pfeiffer et al. 2020 found that enough). It cannot be merged: the GELU is not linear.
 *
 * QLoRA (Dettmers et al. 2023): LoRA over a base whose weights are stored in 4 bits.
 * nn_gpt_quantize_base replaces the base's weight matrices by their int4 round trip
 * (nn_quant_roundtrip_param, nn/ops/quant.h): a "fake quant" base that holds float32 values,
 * but exactly the values a 4-bit base computes with (QLoRA, too, dequantizes each weight for
 * the matmul); the memory it reports is what those weights take at 4 bits. QLoRA's NF4 number
 * format, double quantization and paged optimizers are not reproduced: symmetric int4 groups
 * stand in.
 *
 * On a GPT (nn/net/gpt.h):
 *   nn_gpt_lora_attach(gpt, &(nn_gpt_lora_config){.targets = NN_LORA_QV, .rank = 4});
 *   ... train gpt->model as usual: the base is frozen, only the adapters have gradients ...
 *   nn_gpt_lora_save(gpt, "poems.lora");       // the adapters alone: a small file
 *   nn_gpt_lora_merge(gpt);                     // W += s A B; the adapters are gone
 * The adapters' parameters live in gpt->model, after the base's, named "lora.block<l>.<q|k|v|
 * out|fc|proj>.<A|B>" and "adapter.block<l>.<down|up>.<W|b>", so the usual training loop
 * (nn_adamw_new(gpt->model, ...), clipping, early stopping) trains them and skips the frozen
 * base. Attach before making the optimizer; free the optimizer (and anything else sized by
 * the model: early stopping) before merging or removing, which take the parameters out again.
 * Merge or remove before nn_gpt_save, too: it refuses a model with adapters attached (the
 * folder holds the base; nn_gpt_lora_save writes the adapters alone).
 */
#ifndef NN_NET_LORA_H
#define NN_NET_LORA_H

#include "../core/model.h"
#include "gpt.h"
#include "linear.h"

/* ---- one LoRA on (some output columns of) a linear layer ---------------------------------- */

typedef struct nn_lora {
    nn_tensor *A;             /* "<name>.A" (in, r): uniform(+-1/sqrt(in)) (PyTorch's Linear) */
    nn_tensor *B;             /* "<name>.B" (r, out): zero at the start */
    nn_linear_layer *base;    /* the layer adapted: its output columns col .. col+out-1 */
    int col, in, out, rank;
    float alpha, scale;       /* scale = alpha / rank */
} nn_lora;

/* A LoRA of rank r on columns col .. col+cols-1 of base's output (0 and base->out for the
 * whole layer), its parameters in m. 1 <= r <= min(in, cols): a rank above that is no longer
 * low (and A B could not even have it). alpha > 0; 0 picks alpha = r (scale 1). NULL on
 * misuse. Draws A from the global generator. */
nn_lora *nn_lora_new(nn_model *m, const char *name, nn_linear_layer *base, int col, int cols,
                     int rank, float alpha);
/* y + scale (x A) B, where x (..., in) is the base layer's input and y (..., out) its output
 * columns that the LoRA adapts; l NULL: y itself (no LoRA attached). */
nn_tensor *nn_lora_forward(const nn_lora *l, nn_tensor *x, nn_tensor *y);
/* The adapted layer: x W + b + scale (x A) B, x (..., in) -> (..., out). l NULL: the plain
 * layer; otherwise l must adapt all of layer's columns. */
nn_tensor *nn_lora_linear_forward(const nn_linear_layer *layer, const nn_lora *l, nn_tensor *x);
/* Fold it in: base W[:, col .. col+out) += scale A B, then B = 0, so that the LoRA adds
 * nothing more (the same outputs, now from W alone). 0, or -1 on misuse. */
int nn_lora_merge(nn_lora *l);

/* ---- a bottleneck adapter ------------------------------------------------------------------ */

typedef struct nn_adapter {
    nn_linear_layer down;     /* "<name>.down": W (C, m) uniform(+-1/sqrt(C)), b (m) zero */
    nn_linear_layer up;       /* "<name>.up":   W (m, C) and b (C) zero: the identity at first */
    int dim, bottleneck;
} nn_adapter;

/* 1 <= bottleneck <= dim (a bottleneck is narrower than what it adapts). NULL on misuse. */
nn_adapter *nn_adapter_new(nn_model *m, const char *name, int dim, int bottleneck);
/* h + GELU(h Wdown + bdown) Wup + bup:  h (..., C) -> (..., C) */
nn_tensor *nn_adapter_forward(const nn_adapter *a, nn_tensor *h);

/* ---- on a GPT ------------------------------------------------------------------------------ */

/* Which projections of every block get a LoRA (a bit mask). */
enum {
    NN_LORA_Q = 1,        /* the q third of attention's Wqkv */
    NN_LORA_K = 2,        /* the k third */
    NN_LORA_V = 4,        /* the v third */
    NN_LORA_OUT = 8,      /* attention's output Wo (C, C) */
    NN_LORA_FC = 16,      /* the feed-forward's W1 (C, F) */
    NN_LORA_PROJ = 32,    /* the feed-forward's W2 (F, C) */
    NN_LORA_QV = NN_LORA_Q | NN_LORA_V,   /* Hu et al.'s choice */
    NN_LORA_ALL = 63
};

typedef struct nn_gpt_lora_config {
    unsigned targets;     /* NN_LORA_* bits; 0 = no LoRA (an adapter only) */
    int rank;             /* r of every LoRA: 1 .. min(in, out) of each target */
    float alpha;          /* scale = alpha / r; 0 = alpha = r (scale 1) */
    int bottleneck;       /* > 0: a bottleneck adapter of this width (<= C) after each
                           * block's feed-forward; 0 = none */
} nn_gpt_lora_config;

/* What nn_gpt_lora_attach added to a GPT (gpt->adapters). */
typedef struct nn_gpt_adapters {
    nn_gpt_lora_config cfg;   /* as given, alpha filled in */
    int first_param;          /* gpt->model's parameters first_param .. are the adapters' */
    size_t base_count;        /* floats in the base (the model's before the attach) */
    int n_lora;
    nn_lora *lora;            /* n_lora of them, block by block */
    nn_adapter *adapter;      /* one per block; NULL without adapters */
} nn_gpt_adapters;

/* Freeze every parameter of gpt's base (nn_model_freeze) and add the LoRAs and adapters of
 * cfg, trainable, to gpt->model; from then on nn_gpt_forward, nn_gpt_forward_cached and
 * nn_gpt_generate use them. 0, or -1 on misuse (a bad config, adapters already attached). */
int nn_gpt_lora_attach(nn_gpt *gpt, const nn_gpt_lora_config *cfg);
/* The floats the adapters add (what trains); 0 when none are attached. */
size_t nn_gpt_lora_count(const nn_gpt *gpt);
/* Merge every LoRA into its weight (nn_lora_merge), then remove them (nn_gpt_lora_remove):
 * an ordinary GPT again, giving the outputs the adapted one gave (up to float rounding),
 * which nn_gpt_save can save. Refused (-1) with a bottleneck adapter attached (not linear:
 * remove it) or with nothing attached. */
int nn_gpt_lora_merge(nn_gpt *gpt);
/* Take the adapters out without merging (back to the base) and unfreeze the base's
 * parameters. Nothing attached: nothing to do. -1 on misuse (parameters were added to
 * gpt->model after the attach, so the adapters' are not the last ones). */
int nn_gpt_lora_remove(nn_gpt *gpt);

/* Save the adapters' parameters alone (a checkpoint, nn/data/checkpoint.h: the same names,
 * plus "lora.alpha" (1) when there are LoRAs), a small file beside the base's. 0, or -1
 * with nn_last_error(). */
int nn_gpt_lora_save(const nn_gpt *gpt, const char *path);
/* Load such a file into the adapters attached with the same config (targets, rank, alpha,
 * bottleneck: a file of another one is refused, naming what does not fit); on failure
 * nothing changes. 0, or -1 with nn_last_error(). */
int nn_gpt_lora_load(nn_gpt *gpt, const char *path);

/* QLoRA's base: replace each weight matrix of gpt's base (a weight of 2 or more dims, with
 * weight decay: every matrix, the token table too; biases and LayerNorms stay) by its int4
 * round trip in groups of `group` inputs (nn_quant_roundtrip_param). Returns the bytes the
 * base takes so stored (int4 values, a float32 scale per group, float32 for the rest), or
 * -1 on misuse. Only the base is quantized, never the adapters (they stay float32). */
double nn_gpt_quantize_base(nn_gpt *gpt, int group);

#endif
