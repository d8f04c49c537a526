/* nn/train/diagnostics.h — training health: is the start loss right? are units saturated or
 * dead? do gradients vanish? are the updates the right size? */
#ifndef NN_TRAIN_DIAGNOSTICS_H
#define NN_TRAIN_DIAGNOSTICS_H

#include <stdio.h>
#include "../core/model.h"

/* ---- training health diagnostics ------------------------------------------------------------ */

/* Snapshot of the whole parameter block (malloc'd copy of m->data; free() it). Take one just
 * before nn_optim_step to measure the step with nn_model_update_ratio. */
float *nn_model_snapshot(const nn_model *m);
/* Copy a snapshot back into the model. */
void nn_model_restore(nn_model *m, const float *snapshot);

/* ||w_now - w_before|| / ||w_before|| for parameter `param` (its index in m->params), or for
 * the whole block when param < 0. A healthy step is around 1e-3: much smaller and learning
 * crawls (or gradients vanished); much larger and it is unstable. 0 when w_before is 0. */
float nn_model_update_ratio(const nn_model *m, const float *before, int param);

/* L2 norm of a tensor's gradient (0 without a gradient) and of its values. */
float nn_grad_norm(const nn_tensor *t);
float nn_value_norm(const nn_tensor *t);

/* Which nonlinearity produced an activation tensor, to know what "saturated" means. */
typedef enum nn_act_kind {
    NN_ACT_LINEAR,  /* no nonlinearity: never saturated */
    NN_ACT_RELU,    /* saturated = exactly 0 (no gradient flows) */
    NN_ACT_SIGMOID, /* saturated = below 0.01 or above 0.99 */
    NN_ACT_TANH     /* saturated = |y| above 0.99 */
} nn_act_kind;

typedef struct nn_act_stats {
    float mean, std;   /* over every element */
    float saturated;   /* fraction of elements in the flat part of the activation */
    float dead;        /* fraction of units (last dim) exactly 0 for every sample */
} nn_act_stats;

/* Statistics of one activation tensor, e.g. (N, units) from the last forward pass. */
nn_act_stats nn_activation_stats(const nn_tensor *act, nn_act_kind kind);

/* One activation to inspect: the graph tensor a layer produced in the last forward pass. */
typedef struct nn_probe {
    const char *name;
    const nn_tensor *act;
    nn_act_kind kind;
} nn_probe;

/* ln(C): the loss a classifier should start near when its C outputs start out equal
 * (cross-entropy of a uniform guess). */
float nn_expected_start_loss(int nclasses);
/* Print "start loss 2.31 vs ln(10) = 2.30: ok" (or a warning); returns 0 when the loss is
 * within max(0.3, 20%) of ln(C), else 1. */
int nn_check_start_loss(FILE *f, float loss, int nclasses);

/* Print a health report: for each probe its mean, std, saturated and dead fractions; for
 * each parameter its value norm, grad norm and (when `before` is a snapshot taken before the
 * last step, else NULL) update ratio; then a warning line for each problem found (mostly
 * saturated, dead units, NaN/Inf, update ratio above 1e-2 or below 1e-5, gradients that
 * pile up across steps because nn_model_zero_grad was not called after nn_optim_step).
 * Call it after backward (and after the step, for the update ratio) but before
 * nn_graph_clear. Returns the number of warnings. f may be NULL: count only. */
int nn_diagnose(FILE *f, const nn_model *m, const nn_probe *probes, int nprobes,
                const float *before);

#endif
