/* examples/ch03_param_count/param_count.c — why convolution (卷积的诞生): parameters,
 * locality and shifts.
 *
 * The tutorial: a 30x30 image gives 900 input neurons; a fully connected layer (全连接层, FC)
 * of 1000 neurons on top has 900 x 1000 = 900,000 weights, far too many; and when the picture
 * moves, every one of them sees something else: nothing is local. Convolution fixes both.
 *
 *   FC:    y = x W + b                 x: (1, 900)  W: (900, 1000)  b: (1000)  y: (1, 1000)
 *   conv:  y[k,i,j] = b[k] + sum_{u,v} w[k,u,v] * x[i-1+u, j-1+v]
 *                                      x: (1, 1, 30, 30)  w: (8, 1, 3, 3)  y: (1, 8, 30, 30)
 *
 * The program counts the parameters of both layers, asks autograd how many input pixels one
 * output depends on (locality), and moves a picture one pixel to the right: the convolution's
 * feature maps move with it (shift them back and they match exactly), while the FC layer's
 * outputs just change, with no "back" to shift them to.
 *
 *   param_count [--quick] [--seed N]     (--help lists them)
 *   --seed 42; --quick changes nothing (it takes milliseconds). Writes no files.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S 30 /* picture side, as in the tutorial */

/* A capital F with 2-pixel strokes, top-left corner (top, left), on a black background. */
static void draw_f(float *img, int top, int left) {
    for (int i = 0; i < S * S; i++) img[i] = 0.0f;
    for (int r = 0; r < 14; r++)
        for (int c = 0; c < 10; c++) {
            bool stem = c < 2, bar1 = r < 2, bar2 = (r == 6 || r == 7) && c < 7;
            if (stem || bar1 || bar2) img[(top + r) * S + left + c] = 1.0f;
        }
}

/* Rows 6..23 of the picture in the terminal (the rest is black), two characters per pixel
 * so it keeps its shape. */
static void show(const float *img) {
    for (int r = 6; r < 24; r++) {
        printf("    ");
        for (int c = 0; c < S; c++) printf("%s", img[r * S + c] > 0.5f ? "##" : " .");
        printf("\n");
    }
}

/* How many entries of x->grad are not zero. */
static int nonzero_grads(const nn_tensor *x) {
    int n = 0;
    for (size_t i = 0; i < x->size; i++) n += x->grad[i] != 0.0f;
    return n;
}

/* d out[index] / d x by autograd: loss = sum(out * onehot), where onehot picks one entry. */
static int inputs_seen(nn_tensor *x, nn_tensor *out, size_t index) {
    nn_tensor *pick = nn_zeros(out->ndim, out->shape);
    pick->data[index] = 1.0f;
    nn_zero_grad(x);
    nn_backward(nn_sum(nn_mul(out, pick)));
    nn_tensor_free(pick);
    return nonzero_grads(x);
}

static float l2(const float *a, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return (float)sqrt(s);
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "accepted like everywhere; changes nothing, it is quick"),
        NN_OPT_SEED(&seed),
    };
    nn_parse_options(argc, argv,
                     "Why convolution: the parameters of a fully connected layer and of a\n"
                     "convolution on a 30x30 picture, how many input pixels one output depends on,\n"
                     "and what moving the picture one pixel does to each.",
                     opts, NN_COUNTOF(opts));
    nn_seed(seed);
    printf("ch03 param count: a fully connected layer vs a convolution on a %dx%d picture\n", S, S);
    printf("  FC:   y = x W + b,  x (1, %d), W (%d, 1000)\n", S * S, S * S);
    printf("  conv: y[k,i,j] = b[k] + sum_{u,v} w[k,u,v] x[i-1+u, j-1+v],  w (8, 1, 3, 3), padding 1\n");
    printf("seed %llu (random initial weights)%s\n\n", (unsigned long long)seed,
           quick ? " (--quick)" : "");

    /* ---- 1. parameter counts ---- */
    nn_model *fc_model = nn_model_new();
    nn_linear_layer *fc = nn_linear_layer_new(fc_model, "fc", S * S, 1000, NN_INIT_HE);
    nn_model *conv_model = nn_model_new();
    nn_conv2d_layer *conv = nn_conv2d_layer_new(conv_model, "conv", 1, 8, 3, 1, 1, NN_INIT_HE);
    printf("== 1. parameters (参数量) ==\n");
    printf("FC 900 -> 1000:   %d x %d weights + %d biases = %zu\n", S * S, 1000, 1000,
           fc_model->count);
    nn_model_summary(fc_model, stdout);
    printf("conv 1 -> 8 channels, 3x3 kernels: 8 x 1 x 3 x 3 weights + 8 biases = %zu\n",
           conv_model->count);
    nn_model_summary(conv_model, stdout);

    float pic[S * S], moved[S * S];
    draw_f(pic, 8, 9);
    draw_f(moved, 8, 10); /* the same F, one pixel to the right */
    nn_tensor *x_fc = nn_requires_grad(nn_from_array(pic, NN_SHAPE(1, S * S)));
    nn_tensor *x_cv = nn_requires_grad(nn_from_array(pic, NN_SHAPE(1, 1, S, S)));
    nn_tensor *y_fc = nn_linear_layer_forward(fc, x_fc);
    nn_tensor *y_cv = nn_conv2d_layer_forward(conv, x_cv);
    char s1[32], s2[32];
    printf("output shapes: FC %s (%zu values),  conv %s (%zu values: 8 feature maps 特征图)\n",
           nn_shape_str(y_fc, s1, sizeof s1), y_fc->size, nn_shape_str(y_cv, s2, sizeof s2),
           y_cv->size);
    double ratio = (double)fc_model->count / (double)conv_model->count;
    printf("the convolution makes %.1fx as many outputs with %.0fx fewer parameters\n",
           (double)y_cv->size / (double)y_fc->size, ratio);

    /* ---- 2. locality: how many input pixels does one output depend on? ---- */
    printf("\n== 2. locality (局部性): input pixels one output depends on (nonzero d y / d x) ==\n");
    int seen_fc = inputs_seen(x_fc, y_fc, 0);
    size_t mid = (size_t)(3 * S + 15) * S + 15; /* feature map 3, pixel (15, 15) */
    int seen_cv = inputs_seen(x_cv, y_cv, mid);
    printf("  FC unit 0:                     %4d of %d pixels (all of them)\n", seen_fc, S * S);
    printf("  conv map 3, pixel (15, 15):    %4d of %d pixels (its 3x3 neighbourhood)\n",
           seen_cv, S * S);
    nn_graph_clear();

    /* ---- 3. move the picture one pixel to the right ---- */
    printf("\n== 3. the picture moves one pixel to the right ==\n");
    printf("the picture, rows 6..23 (each pixel drawn twice as wide):\n");
    show(pic);
    nn_set_grad_enabled(false);
    nn_tensor *a_fc = nn_from_array(pic, NN_SHAPE(1, S * S));
    nn_tensor *b_fc = nn_from_array(moved, NN_SHAPE(1, S * S));
    nn_tensor *a_cv = nn_from_array(pic, NN_SHAPE(1, 1, S, S));
    nn_tensor *b_cv = nn_from_array(moved, NN_SHAPE(1, 1, S, S));
    nn_tensor *fa = nn_linear_layer_forward(fc, a_fc), *fb = nn_linear_layer_forward(fc, b_fc);
    nn_tensor *ca = nn_conv2d_layer_forward(conv, a_cv), *cb = nn_conv2d_layer_forward(conv, b_cv);

    /* FC: compare output by output. The outputs have no positions: there is nothing to shift. */
    float dfc[1000];
    for (int i = 0; i < 1000; i++) dfc[i] = fb->data[i] - fa->data[i];
    float fc_change = l2(dfc, 1000) / l2(fa->data, 1000);
    /* conv: compare as they are, and after shifting the new maps back by one pixel:
     * cb[k, i, j + 1] against ca[k, i, j]. */
    float *dcv = malloc(ca->size * sizeof(float));
    float shift_back = 0.0f;
    size_t n = 0;
    for (int k = 0; k < 8; k++)
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                size_t at = ((size_t)k * S + i) * S + j;
                dcv[at] = cb->data[at] - ca->data[at];
                if (j + 1 < S) shift_back = fmaxf(shift_back, fabsf(cb->data[at + 1] - ca->data[at]));
                n++;
            }
    float cv_change = l2(dcv, n) / l2(ca->data, n);
    float in_change = 0.0f;
    {
        float d[S * S];
        for (int i = 0; i < S * S; i++) d[i] = moved[i] - pic[i];
        in_change = l2(d, S * S) / l2(pic, S * S);
    }
    printf("relative change ||after - before|| / ||before||:\n");
    printf("  the pixels themselves:            %.3f\n", in_change);
    printf("  FC outputs:                       %.3f   (each unit now sees different pixels)\n",
           fc_change);
    printf("  conv feature maps, as they are:   %.3f\n", cv_change);
    printf("  conv feature maps, shifted back:  max |difference| = %g   (the maps just moved)\n",
           shift_back);
    printf("The convolution is shift-equivariant (平移等变): the same kernel slides everywhere,\n"
           "so a moved picture gives moved feature maps. The FC layer has one weight per pixel\n"
           "per unit: to recognise the F one pixel further right it needs other weights.\n");

    printf("result: fc_params=%zu conv_params=%zu ratio=%.0f fc_inputs_per_output=%d "
           "conv_inputs_per_output=%d fc_shift_change=%.3f conv_shift_change=%.3f "
           "conv_shift_back_diff=%g\n",
           fc_model->count, conv_model->count, ratio, seen_fc, seen_cv, fc_change, cv_change,
           shift_back);

    free(dcv);
    nn_tensor_free(x_fc), nn_tensor_free(x_cv);
    nn_tensor_free(a_fc), nn_tensor_free(b_fc), nn_tensor_free(a_cv), nn_tensor_free(b_cv);
    nn_model_free(fc_model);
    nn_model_free(conv_model);
    nn_graph_release();
    return 0;
}
