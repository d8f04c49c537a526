/* examples/ch03_matrix_view/matrix_view.c — a layer as matrices: Y = g(WX + b).
 *
 * The tutorial (从矩阵到CNN): with many neurons, writing every function out is too much, so
 * we use matrices: W (weights), X (inputs), b (biases), and one layer is Y = g(WX + b).
 * Many layers are one recursion:  A0 = X,  Al = g(Wl A(l-1) + bl).
 *
 * The tutorial writes each sample as a COLUMN of X:
 *   W: (out, in)   X: (in, N)   b: (out, 1), added to every column   Y: (out, N)
 * This library (like PyTorch) stores each sample as a ROW, so its linear layer computes the
 * transpose of the same thing:
 *   Y^T = (WX + b)^T = X^T W^T + b^T      i.e.  Y' = X' W' + b  with  X' = X^T, W' = W^T
 *   X': (N, in)   W': (in, out)   b: (out)   Y': (N, out)
 * Rows as samples keep one sample's numbers next to each other in memory, and a batch is
 * simply "more rows".
 *
 * The program computes one small layer (3 inputs, 2 outputs, a batch of 4) three ways, by
 * hand loops, with nn_matmul in the tutorial's column form, and with nn_linear_layer_forward in
 * the row form, and checks they agree; then a second layer on top (the recursion); then
 * times one sample at a time against one matrix product for the whole batch (why matrices
 * make it fast: 利用矩阵运算 ... 加速).
 *
 *   matrix_view [--quick] [--seed N]     (--help lists them)
 *   --seed 42; --quick times a batch of 256 samples instead of 2048. Writes no files.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Print a rows x cols matrix stored row-major, with a title. */
static void print_matrix(const char *title, const float *a, int rows, int cols) {
    printf("%s  (%d x %d)\n", title, rows, cols);
    for (int i = 0; i < rows; i++) {
        printf("    [");
        for (int j = 0; j < cols; j++) printf(" %7.3f", a[i * cols + j]);
        printf(" ]\n");
    }
}

static float relu(float v) { return v > 0.0f ? v : 0.0f; }

/* The tutorial's form, by hand: Z = W X + b (b added to every column), Y = g(Z).
 * W: (out, in)  X: (in, n)  b: (out)  Z, Y: (out, n). g = ReLU, or none when y is NULL. */
static void layer_by_hand(const float *W, const float *X, const float *b, int out, int in,
                          int n, float *Z, float *Y) {
    for (int o = 0; o < out; o++)
        for (int s = 0; s < n; s++) {
            float z = b[o];
            for (int i = 0; i < in; i++) z += W[o * in + i] * X[i * n + s]; /* row o of W . column s of X */
            Z[o * n + s] = z;
            if (Y) Y[o * n + s] = relu(z);
        }
}

/* Largest |a[o][s] - bt[s][o]|: compares a (out, n) with the transpose of bt (n, out). */
static float max_diff_transposed(const float *a, const float *bt, int out, int n) {
    float d = 0.0f;
    for (int o = 0; o < out; o++)
        for (int s = 0; s < n; s++) d = fmaxf(d, fabsf(a[o * n + s] - bt[s * out + o]));
    return d;
}

static float max_diff(const float *a, const float *b, size_t n) {
    float d = 0.0f;
    for (size_t i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): a smaller batch to time"),
        NN_OPT_SEED(&seed),
    };
    nn_parse_options(argc, argv,
                     "A layer as matrices, Y = g(WX + b): one small layer computed by hand loops,\n"
                     "in the tutorial's column form and in the library's row form, a second layer\n"
                     "on top, and one sample at a time timed against one product for the batch.",
                     opts, NN_COUNTOF(opts));
    nn_seed(seed);
    printf("ch03 matrix view: one layer as matrices, Y = g(WX + b), g = ReLU\n");
    printf("seed %llu (only the timing part uses random numbers)%s\n\n",
           (unsigned long long)seed, quick ? " (--quick)" : "");

    /* ---- one layer, the tutorial's column form ---- */
    enum { IN = 3, OUT = 2, N = 4 };
    const float W[OUT * IN] = {0.5f, -1.0f, 0.25f,   /* neuron 1's weights */
                               1.0f, 0.5f, 0.5f};    /* neuron 2's weights */
    const float X[IN * N] = {1.0f, 0.0f, 2.0f, -1.0f, /* input 1 of samples 1..4 */
                             0.0f, 1.0f, 1.0f, 2.0f,  /* input 2 */
                             2.0f, 1.0f, 0.0f, 1.0f}; /* input 3 */
    const float b[OUT] = {0.1f, -0.2f};
    printf("== 1. one layer: %d inputs -> %d neurons, a batch of %d samples (one per column) ==\n",
           IN, OUT, N);
    print_matrix("W  weights, one row per neuron", W, OUT, IN);
    print_matrix("X  inputs, one column per sample", X, IN, N);
    print_matrix("b  biases, one per neuron (added to every column)", b, OUT, 1);

    float Z[OUT * N], Y[OUT * N];
    layer_by_hand(W, X, b, OUT, IN, N, Z, Y);
    print_matrix("WX + b  (by hand: entry (o, s) = row o of W . column s of X + b[o])", Z, OUT, N);
    print_matrix("Y = g(WX + b), g = ReLU: negatives become 0", Y, OUT, N);
    printf("    e.g. Y[1][1] = relu(%.2f*%.0f + %.2f*%.0f + %.2f*%.0f + %.2f) = relu(%.3f) = %.3f\n",
           W[0], X[0], W[1], X[N], W[2], X[2 * N], b[0], Z[0], Y[0]);

    /* (a) the same, literally, with library ops: nn_matmul(W, X) + b as a (2, 1) column.
     *     Broadcasting adds the column to each of the N columns. */
    nn_set_grad_enabled(false); /* we only compute, nothing is trained here */
    nn_tensor *tW = nn_from_array(W, NN_SHAPE(OUT, IN));
    nn_tensor *tX = nn_from_array(X, NN_SHAPE(IN, N));
    nn_tensor *tb = nn_from_array(b, NN_SHAPE(OUT, 1));
    nn_tensor *Ycol = nn_relu(nn_add(nn_matmul(tW, tX), tb)); /* (2,3)@(3,4) + (2,1) -> (2,4) */
    float d_col = max_diff(Ycol->data, Y, OUT * N);

    /* (b) the library's linear layer: rows are samples, Y' = X' W' + b with W' = W^T. */
    nn_model *model = nn_model_new();
    nn_linear_layer *l1 = nn_linear_layer_new(model, "layer1", IN, OUT, NN_INIT_ZEROS);
    for (int o = 0; o < OUT; o++) {
        for (int i = 0; i < IN; i++) l1->W->data[i * OUT + o] = W[o * IN + i]; /* W' = W^T */
        l1->b->data[o] = b[o];
    }
    float Xt[N * IN];
    for (int i = 0; i < IN; i++)
        for (int s = 0; s < N; s++) Xt[s * IN + i] = X[i * N + s];      /* X' = X^T */
    nn_tensor *tXt = nn_from_array(Xt, NN_SHAPE(N, IN));
    nn_tensor *Yrow = nn_relu(nn_linear_layer_forward(l1, tXt));
    char s1[32], s2[32], s3[32], s4[32];
    printf("\nthe library stores one sample per ROW (the transpose):\n");
    printf("  X' = X^T %s,  W' = W^T %s (layer1.W),  b %s  ->  Y' = relu(X' W' + b) %s\n",
           nn_shape_str(tXt, s1, sizeof s1), nn_shape_str(l1->W, s2, sizeof s2),
           nn_shape_str(l1->b, s3, sizeof s3), nn_shape_str(Yrow, s4, sizeof s4));
    print_matrix("Y' = relu(nn_linear_layer_forward(layer1, X'))  = Y^T", Yrow->data, N, OUT);
    float d_row = max_diff_transposed(Y, Yrow->data, OUT, N);
    printf("agreement: |by hand - nn_matmul(W, X) + b| max %.1e,  |by hand - (X' W' + b)^T| max %.1e\n",
           d_col, d_row);
    printf("parameters of this layer: W %d + b %d = %d (out x in + out)\n", OUT * IN, OUT,
           OUT * IN + OUT);

    /* ---- two layers: the recursion A0 = X, A1 = g(W1 A0 + b1), A2 = W2 A1 + b2 ---- */
    printf("\n== 2. many layers: the recursion  A0 = X,  Al = g(Wl A(l-1) + bl) ==\n");
    printf("layer 2 takes layer 1's output as its input: 2 -> 1 (the last layer without g)\n");
    const float W2[1 * OUT] = {1.0f, -1.0f};
    const float b2[1] = {0.5f};
    print_matrix("W2", W2, 1, OUT);
    print_matrix("b2", b2, 1, 1);
    float Z2[N];
    layer_by_hand(W2, Y, b2, 1, OUT, N, Z2, NULL); /* A2 = W2 A1 + b2, A1 = Y */
    print_matrix("A2 = W2 g(W1 X + b1) + b2  (by hand)", Z2, 1, N);
    nn_linear_layer *l2 = nn_linear_layer_new(model, "layer2", OUT, 1, NN_INIT_ZEROS);
    for (int o = 0; o < OUT; o++) l2->W->data[o] = W2[o]; /* W2' = W2^T: (2, 1) */
    l2->b->data[0] = b2[0];
    nn_tensor *A2 = nn_linear_layer_forward(l2, nn_relu(nn_linear_layer_forward(l1, tXt)));
    print_matrix("A2' = layer2(relu(layer1(X')))  (library, rows = samples)", A2->data, N, 1);
    float d2 = max_diff(A2->data, Z2, N); /* (N, 1) and (1, N) hold the same N numbers */
    printf("agreement: max |by hand - library| = %.1e\n", d2);
    printf("model summary (every fully connected layer has out x in weights + out biases):\n");
    nn_model_summary(model, stdout);
    nn_graph_clear();

    /* ---- why matrices: one sample at a time vs the whole batch in one product ---- */
    int nin = 784, nout = 256, batch = quick ? 256 : 2048, reps = quick ? 2 : 5;
    printf("\n== 3. why matrices: a %d -> %d layer on %d samples ==\n", nin, nout, batch);
    nn_linear_layer *big = nn_linear_layer_new(model, "big", nin, nout, NN_INIT_HE);
    nn_tensor *Xb = nn_rand_uniform(0.0f, 1.0f, NN_SHAPE(batch, nin));
    double t_one = 1e30, t_all = 1e30;
    float d_big = 0.0f;
    for (int r = 0; r < reps; r++) { /* best of a few runs: the least disturbed by other work */
        double t0 = nn_seconds();
        nn_tensor *Yall = nn_linear_layer_forward(big, Xb); /* (batch, 784) @ (784, 256): one product */
        double t1 = nn_seconds();
        d_big = 0.0f;
        for (int s = 0; s < batch; s++) {             /* one (1, 784) row at a time */
            nn_tensor *ys = nn_linear_layer_forward(big, nn_rows(Xb, s, 1));
            d_big = fmaxf(d_big, max_diff(ys->data, Yall->data + (size_t)s * nout, nout));
        }
        double t2 = nn_seconds();
        if (t1 - t0 < t_all) t_all = t1 - t0;
        if (t2 - t1 < t_one) t_one = t2 - t1;
        nn_graph_clear();
    }
    printf("  %4d separate products (1, %d) @ (%d, %d): %8.3f ms\n", batch, nin, nin, nout,
           1e3 * t_one);
    printf("     one product (%d, %d) @ (%d, %d):    %8.3f ms   %.1fx faster, same numbers (max diff %.1e)\n",
           batch, nin, nin, nout, 1e3 * t_all, t_one / t_all, d_big);
    printf("  (one big product reuses each weight for many samples while it is in the cache,\n"
           "   and splits into blocks that run in parallel; a GPU takes this much further)\n");

    bool ok = d_col < 1e-6f && d_row < 1e-6f && d2 < 1e-6f && d_big < 1e-4f;
    printf("result: agree=%d diff_col=%.1e diff_row=%.1e diff_two_layers=%.1e y11=%.3f "
           "params_layer1=%d batch_speedup=%.1f\n",
           ok, d_col, d_row, d2, Y[0], OUT * IN + OUT, t_one / t_all);

    nn_tensor_free(tW), nn_tensor_free(tX), nn_tensor_free(tb), nn_tensor_free(tXt);
    nn_tensor_free(Xb);
    nn_model_free(model);
    nn_graph_release();
    return ok ? 0 : 1;
}
