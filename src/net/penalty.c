/* src/net/penalty.c — L1 and L2 penalties over the weights of a model. */
#include "internal.h"
#include "nn/net/penalty.h"

/* ---- penalties over the model's weights ---------------------------------------------------
 * L1 = sum |w|  (d/dw = sign w);   L2 = sum w^2  (d/dw = 2w).  Biases and frozen
 * parameters are left out (a frozen weight is a constant, not something to shrink). */

static void penalty_backward(nn_node *n) {
    const nn_model *m = n->extra;
    float g = n->out->grad[0];
    bool l1 = n->i[0] == 1;
    for (int p = 0; p < m->nparams; p++) {
        if (!nn_param_decays(m, p)) continue;
        nn_tensor *w = m->params[p];
        for (size_t i = 0; i < w->size; i++) {
            float v = w->data[i];
            w->grad[i] += l1 ? g * (float)((v > 0.0f) - (v < 0.0f)) : g * 2.0f * v;
        }
    }
}

static nn_tensor *penalty(const char *op, nn_model *m, int kind) {
    NN_REQUIRE(m, op);
    nn_tensor *first = NULL; /* any weight: tells nn_record that grads are wanted */
    for (int p = 0; p < m->nparams && !first; p++)
        if (nn_param_decays(m, p)) first = m->params[p];
    nn_node *node;
    nn_tensor *out = nn_record(op, penalty_backward, 0, NULL, first, NULL, NULL, &node);
    double total = 0.0;
    for (int p = 0; p < m->nparams; p++) {
        if (!nn_param_decays(m, p)) continue;
        const nn_tensor *w = m->params[p];
        for (size_t i = 0; i < w->size; i++)
            total += kind == 1 ? fabs((double)w->data[i]) : (double)w->data[i] * w->data[i];
    }
    out->data[0] = (float)total;
    if (node) {
        node->extra = m;
        node->i[0] = kind;
    }
    return out;
}

nn_tensor *nn_l1_penalty(nn_model *m) { return penalty("nn_l1_penalty", m, 1); }
nn_tensor *nn_l2_penalty(nn_model *m) { return penalty("nn_l2_penalty", m, 2); }
