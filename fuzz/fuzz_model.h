/* fuzz/fuzz_model.h — the small fixed model that fuzz_checkpoint loads into and that
 * make_seeds saves as the checkpoint seeds: parameters of 1, 2 and 4 dimensions.
 *   conv.W (2, 1, 3, 3)  conv.b (2)  fc.W (8, 3)  fc.b (3) */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <nn.h>

static nn_model *fuzz_model_new(void) {
    nn_model *m = nn_model_new();
    nn_conv2d_layer_new(m, "conv", 1, 2, 3, 1, 0, NN_INIT_HE);
    nn_linear_layer_new(m, "fc", 8, 3, NN_INIT_XAVIER);
    return m;
}

#endif
