/* nn/core/gradcheck.h — check backward against central differences, on your own ops too.
 *
 * f builds a scalar loss from `inputs` (tensors you own, with requires_grad). The checker
 * runs backward once for the analytic gradient, then for each input element computes
 *   numeric = (f(x + eps) - f(x - eps)) / (2 eps)
 * and compares: rel_err = |analytic - numeric| / max(|analytic|, |numeric|, 1).
 * (The floor of 1 keeps tiny gradients from turning float32 noise into huge "relative"
 * errors; for such entries the figure is the absolute error.) It clears the graph between
 * evaluations, so call it when you hold no graph tensors you still need.
 */
#ifndef NN_CORE_GRADCHECK_H
#define NN_CORE_GRADCHECK_H

#include "tensor.h"


typedef nn_tensor *(*nn_loss_fn)(nn_tensor **inputs, void *user);

typedef struct nn_gradcheck_result {
    double max_rel_err;   /* worst relative error over every checked element */
    int worst_input;      /* which input, and which element of it */
    size_t worst_index;
    double analytic;      /* the two gradients at the worst element */
    double numeric;
    size_t checked;       /* elements checked */
    bool ok;              /* max_rel_err <= tol */
} nn_gradcheck_result;

/* eps <= 0 picks 1e-2 (float32 needs a large step); tol <= 0 picks 1e-2. */
nn_gradcheck_result nn_gradcheck(nn_loss_fn f, nn_tensor **inputs, int n_inputs, void *user,
                                 double eps, double tol);

#endif
