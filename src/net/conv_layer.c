/* src/net/conv_layer.c — the convolution layer: kernels and biases as parameters, forward through nn_conv2d. */
#include "internal.h"
#include "nn/ops/conv.h"
#include "nn/net/init.h"
#include "nn/net/conv_layer.h"

nn_conv2d_layer *nn_conv2d_layer_new(nn_model *m, const char *name, int in_ch, int out_ch,
                                     int ksize, int stride, int padding, nn_init init) {
    NN_REQUIRE(m, "nn_conv2d_layer_new");
    if (in_ch < 1 || out_ch < 1 || ksize < 1 || stride < 1 || padding < 0) {
        nn_fail("nn_conv2d_layer_new", "channels, kernel size and stride are >= 1, "
                "padding >= 0",
                "in_ch = %d, out_ch = %d, ksize = %d, stride = %d, padding = %d", in_ch,
                out_ch, ksize, stride, padding);
        return NULL;
    }
    char pname[256];
    nn_conv2d_layer *l = nn_model_alloc(m, sizeof *l);
    *l = (nn_conv2d_layer){NULL, NULL, in_ch, out_ch, ksize, stride, padding};
    snprintf(pname, sizeof pname, "%s.W", name ? name : "conv");
    l->W = nn_model_param(m, pname, 4, (int[]){out_ch, in_ch, ksize, ksize}, true);
    snprintf(pname, sizeof pname, "%s.b", name ? name : "conv");
    l->b = nn_model_param(m, pname, 1, (int[]){out_ch}, false);
    if (!l->W || !l->b) return NULL;
    int fan_in = in_ch * ksize * ksize, fan_out = out_ch * ksize * ksize;
    switch (init) {
    case NN_INIT_XAVIER: nn_init_xavier(l->W, fan_in, fan_out, NULL); break;
    case NN_INIT_HE: nn_init_he(l->W, fan_in, NULL); break;
    case NN_INIT_ZEROS: break;
    }
    return l;
}

/* The input's shape against the layer's; reports misuse under op's name. */
static bool input_fits(const char *op, const nn_conv2d_layer *layer, const nn_tensor *x) {
    if (x->ndim != 4 || x->shape[1] != layer->in_ch) {
        nn_fail(op, "the input is (N, in_ch, H, W), channels in dim 1",
                "input %s does not fit a layer W %s (in_ch = %d)", SHAPE(x), SHAPE(layer->W),
                layer->in_ch);
        return false;
    }
    return true;
}

nn_tensor *nn_conv2d_layer_forward(const nn_conv2d_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_conv2d_layer_forward");
    NN_REQUIRE(x, "nn_conv2d_layer_forward");
    if (!input_fits("nn_conv2d_layer_forward", layer, x)) return NULL;
    return nn_conv2d(x, layer->W, layer->b, layer->stride, layer->padding);
}

nn_tensor *nn_conv2d_layer_forward_relu(const nn_conv2d_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_conv2d_layer_forward_relu");
    NN_REQUIRE(x, "nn_conv2d_layer_forward_relu");
    if (!input_fits("nn_conv2d_layer_forward_relu", layer, x)) return NULL;
    return nn_conv2d_relu(x, layer->W, layer->b, layer->stride, layer->padding);
}

nn_tensor *nn_conv2d_layer_forward_relu_maxpool(const nn_conv2d_layer *layer, nn_tensor *x,
                                                int pool_kernel, int pool_stride) {
    NN_REQUIRE(layer, "nn_conv2d_layer_forward_relu_maxpool");
    NN_REQUIRE(x, "nn_conv2d_layer_forward_relu_maxpool");
    if (!input_fits("nn_conv2d_layer_forward_relu_maxpool", layer, x)) return NULL;
    return nn_conv2d_relu_maxpool2d(x, layer->W, layer->b, layer->stride, layer->padding,
                                    pool_kernel, pool_stride);
}
