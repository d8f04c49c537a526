/* src/net/linear.c — the linear (fully connected) layer: Y = X W + b. */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/matmul.h"
#include "nn/net/init.h"
#include "nn/net/linear.h"

nn_linear_layer *nn_linear_layer_new(nn_model *m, const char *name, int in, int out, nn_init init) {
    NN_REQUIRE(m, "nn_linear_layer_new");
    if (in < 1 || out < 1) {
        nn_fail("nn_linear_layer_new", "a layer needs at least one input and one output",
                "in = %d, out = %d", in, out);
        return NULL;
    }
    char pname[256];
    nn_linear_layer *l = nn_model_alloc(m, sizeof *l);
    l->in = in;
    l->out = out;
    snprintf(pname, sizeof pname, "%s.W", name ? name : "linear");
    l->W = nn_model_param(m, pname, 2, (int[]){in, out}, true);
    snprintf(pname, sizeof pname, "%s.b", name ? name : "linear");
    l->b = nn_model_param(m, pname, 1, (int[]){out}, false);
    if (!l->W || !l->b) return NULL;
    switch (init) {
    case NN_INIT_XAVIER: nn_init_xavier(l->W, in, out, NULL); break;
    case NN_INIT_HE: nn_init_he(l->W, in, NULL); break;
    case NN_INIT_ZEROS: break;
    }
    return l;
}

/* Y = X W + b: a matmul, then the bias broadcast over the rows. */
nn_tensor *nn_linear_layer_forward(const nn_linear_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_linear_layer_forward");
    NN_REQUIRE(x, "nn_linear_layer_forward");
    if (x->ndim < 2) {
        nn_fail("nn_linear_layer_forward", "one sample per row: nn_reshape a single sample to "
                "(1, in)", "input %s has no batch dimension; expected (N, %d)", SHAPE(x),
                layer->in);
        return NULL;
    }
    if (x->shape[x->ndim - 1] != layer->in) {
        nn_fail("nn_linear_layer_forward", "the input's last dim must equal the layer's `in` "
                "(one sample per row)",
                "input %s does not fit a layer W %s (in = %d)", SHAPE(x), SHAPE(layer->W),
                layer->in);
        return NULL;
    }
    return nn_linear(x, layer->W, layer->b);   /* x W + b, one op (src/ops/matmul.c) */
}
