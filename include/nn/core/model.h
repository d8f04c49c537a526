/* nn/core/model.h — a model owns its parameters, in ONE contiguous block.
 *
 * All parameter values sit in model->data[0 .. count) and all their gradients in
 * model->grad[0 .. count), each parameter tensor pointing at its own slice. So an optimizer
 * step, gradient clipping, an L2 penalty or saving a checkpoint is a single loop. (Adding a
 * parameter may move the block: take pointers into it after the model is built.)
 * Layers (nn/net/linear.h, nn/net/conv_layer.h) create their parameters here and keep their
 * own structs here too, so nn_model_free() releases everything.
 */
#ifndef NN_CORE_MODEL_H
#define NN_CORE_MODEL_H

#include "tensor.h"


typedef struct nn_model {
    float *data;          /* every parameter's values, back to back */
    float *grad;          /* every parameter's gradients, same layout */
    size_t count;         /* floats in use */
    size_t capacity;      /* floats allocated */
    nn_tensor **params;   /* the parameter tensors, in creation order */
    bool *decay;          /* per parameter: do weight decay / L1 / L2 apply (weights, not biases) */
    int nparams;
    int cap_params;
    void **blocks;        /* memory owned by the model (layer structs), freed with it */
    int nblocks;
    int cap_blocks;
    bool warned_piled;    /* internal: the "gradients pile up" warning was printed */
} nn_model;

nn_model *nn_model_new(void);
void nn_model_free(nn_model *m);   /* frees parameters, layers and the model; NULL is fine */

/* A new zero-filled parameter called `name` (copied) of `shape`. `decay` marks weights that
 * regularization applies to (false for biases). */
nn_tensor *nn_model_param(nn_model *m, const char *name, int ndim, const int *shape, bool decay);
/* Zeroed memory that lives as long as the model (for a layer's struct). */
void *nn_model_alloc(nn_model *m, size_t bytes);

/* Zero every gradient: call it before each nn_backward, since gradients accumulate. (Forget
 * it after an nn_optim_step, and nn_backward warns once: the gradients pile up step after
 * step. Accumulating on purpose, several backward calls and then one step, is fine.) */
void nn_model_zero_grad(nn_model *m);

/* Frozen parameters (for fine-tuning a part of a model, LoRA, a teacher in distillation,
 * pruning masks): freeze every parameter whose name starts with `prefix` (NULL or "" = all),
 * or unfreeze them again; returns how many matched. A frozen parameter has requires_grad
 * false: backward computes no gradient for it, and optimizers (weight decay included),
 * nn_clip_grad_norm, the L1/L2 penalties and nn_model_grad_norm skip it.
 *   nn_model_freeze(model, "");  nn_model_unfreeze(model, "head.");   // train the head only */
int nn_model_freeze(nn_model *m, const char *prefix);
int nn_model_unfreeze(nn_model *m, const char *prefix);
/* Floats in the parameters that are not frozen. */
size_t nn_model_trainable_count(const nn_model *m);
nn_tensor *nn_model_find(const nn_model *m, const char *name);  /* NULL when absent */
float nn_model_grad_norm(const nn_model *m);     /* sqrt(sum of grad^2), frozen ones left out */
float nn_model_weight_norm(const nn_model *m);   /* sqrt(sum of decayed weights^2) */
/* true when every parameter value and gradient is finite; otherwise false, with the first
 * bad one named in nn_last_error(), e.g. "fc1.W: grad[2, 5] = nan (...)". Never aborts. */
bool nn_model_check_finite(const nn_model *m);
/* Print a table: name, shape, count; then the total. */
void nn_model_summary(const nn_model *m, FILE *f);

#endif
