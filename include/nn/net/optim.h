/* nn/net/optim.h — optimizers over a model's parameter block, and gradient clipping. */
#ifndef NN_NET_OPTIM_H
#define NN_NET_OPTIM_H

#include "../core/model.h"

typedef enum nn_optim_kind { NN_OPTIM_SGD, NN_OPTIM_ADAM } nn_optim_kind;

typedef struct nn_optim {
    nn_optim_kind kind;
    nn_model *model;
    float lr;            /* learning rate; change it between steps for a schedule */
    float momentum;      /* SGD: velocity = momentum * velocity + grad */
    float beta1, beta2;  /* Adam: decay of the first and second moment estimates */
    float eps;           /* Adam: added to sqrt(v) */
    float weight_decay;  /* SGD/Adam: grad += wd * w (L2);  AdamW: w -= lr * wd * w */
    bool decoupled;      /* true for AdamW */
    long t;              /* steps taken */
    long *steps;         /* per parameter: the steps it took part in (frozen ones skip) */
    float *m;            /* SGD velocity / Adam first moment, one per parameter float */
    float *v;            /* Adam second moment */
    size_t count;        /* parameter floats when created (the model must not grow after) */
} nn_optim;

/* SGD: w -= lr * (grad + wd * w), with momentum when momentum > 0. */
nn_optim *nn_sgd_new(nn_model *model, float lr, float momentum, float weight_decay);
/* Adam (beta1 0.9, beta2 0.999, eps 1e-8), with optional L2 weight decay added to the grad. */
nn_optim *nn_adam_new(nn_model *model, float lr, float weight_decay);
/* AdamW: Adam with weight decay applied to the weights directly (decoupled). */
nn_optim *nn_adamw_new(nn_model *model, float lr, float weight_decay);
void nn_optim_step(nn_optim *opt);
void nn_optim_free(nn_optim *opt);

/* Scale all gradients so their global L2 norm is at most max_norm.
 * Returns the norm before clipping. Frozen parameters (nn_model_freeze) are left out.
 * Optimizers skip frozen parameters too: no update, no weight decay, no moment change. */
float nn_clip_grad_norm(nn_model *model, float max_norm);

#endif
