/* src/core/gradcheck.c — compare backward's gradients with central differences. */
#include "internal.h"
#include "nn/core/gradcheck.h"

/* Evaluate f with grad mode off and return the loss in double. */
static double eval_loss(nn_loss_fn f, nn_tensor **inputs, void *user) {
    bool was = nn_set_grad_enabled(false);
    nn_tensor *loss = f(inputs, user);
    double v = loss ? (double)nn_item(loss) : NAN;
    nn_graph_clear();
    nn_set_grad_enabled(was);
    return v;
}

nn_gradcheck_result nn_gradcheck(nn_loss_fn f, nn_tensor **inputs, int n_inputs, void *user,
                                 double eps, double tol) {
    nn_gradcheck_result r = {0};
    NN_REQUIRE_OR(f, "nn_gradcheck", r);
    NN_REQUIRE_OR(inputs, "nn_gradcheck", r);
    if (eps <= 0) eps = 1e-2;
    if (tol <= 0) tol = 1e-2;
    for (int k = 0; k < n_inputs; k++) {
        if (!inputs[k] || !inputs[k]->requires_grad) {
            nn_fail("nn_gradcheck", "call nn_requires_grad(x) on each input you check",
                    "input %d does not require grad", k);
            return r;
        }
        nn_zero_grad(inputs[k]);
    }
    /* Dropout would draw a different mask at every evaluation: check in eval mode. */
    bool was_training = nn_set_training(false);
    bool was_grad = nn_set_grad_enabled(true);
    nn_tensor *loss = f(inputs, user);
    if (!loss) goto done;
    nn_backward(loss);
    nn_graph_clear();

    for (int k = 0; k < n_inputs; k++) {
        nn_tensor *x = inputs[k];
        for (size_t i = 0; i < x->size; i++) {
            float saved = x->data[i];
            x->data[i] = (float)(saved + eps);
            double up = eval_loss(f, inputs, user);
            x->data[i] = (float)(saved - eps);
            double down = eval_loss(f, inputs, user);
            x->data[i] = saved;
            double numeric = (up - down) / (2.0 * eps);
            double analytic = x->grad[i];
            double scale = fmax(fmax(fabs(analytic), fabs(numeric)), 1.0);
            double rel = fabs(analytic - numeric) / scale;
            if (!(rel <= r.max_rel_err) || r.checked == 0) { /* NaN counts as worst */
                r.max_rel_err = rel;
                r.worst_input = k;
                r.worst_index = i;
                r.analytic = analytic;
                r.numeric = numeric;
            }
            r.checked++;
        }
    }
    r.ok = r.checked > 0 && r.max_rel_err <= tol;
done:
    nn_set_training(was_training);
    nn_set_grad_enabled(was_grad);
    return r;
}
