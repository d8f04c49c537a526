/* tests/test_head_loss.c — nn_linear_cross_entropy against the ops it fuses: the same loss and
 * gradients as nn_cross_entropy_loss(nn_linear(x, w, b)), with w either way round, over one
 * chunk of rows or several; central differences; the same bits on one thread and on three;
 * and its refusals. */
#include "testing.h"

/* The loss of the unfused ops: x w + b, or x w^T + b with w (N, K). */
static nn_tensor *unfused(nn_tensor *x, nn_tensor *w, bool transpose_w, nn_tensor *b,
                          const int *labels) {
    nn_tensor *z = transpose_w ? nn_matmul(x, nn_transpose(w)) : nn_matmul(x, w);
    return nn_cross_entropy_loss(b ? nn_add(z, b) : z, labels);
}

static void assert_close(const float *got, const float *want, size_t n, float tol,
                         const char *what) {
    float scale = 1e-3f;
    for (size_t i = 0; i < n; i++) scale = fmaxf(scale, fabsf(want[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= tol * scale))
            fail_msg("%s[%zu] = %.9g, want %.9g", what, i, got[i], want[i]);
}

/* Loss and the three gradients, fused and not, for each case; the upstream gradient is 2.5
 * (the loss is scaled) and x also feeds a second term. Layouts 4-7 feed the op intermediates
 * x * 1.5 and w * 0.5 instead of the leaves: the op is then the first to reach their
 * gradients and writes them rather than adds to them (w's, for a w (K, N), turned round).
 * Layouts 8-9 freeze w (no gradient wanted): x's and b's still match, w's stays zero. */
static void test_matches_the_ops(void **state) {
    (void)state;
    /* rows, K, N; rows past 512 take several chunks, the last one short */
    const int cases[][3] = {{1, 3, 2}, {5, 7, 33}, {37, 16, 65}, {300, 20, 130}, {600, 9, 70}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int layout = 0; layout < 10; layout++) {
            int M = cases[c][0], K = cases[c][1], N = cases[c][2];
            bool transpose_w = layout & 1, bias = layout & 2;
            bool intermediate = layout >= 4 && layout < 8, frozen = layout >= 8;
            int *labels = malloc(sizeof(int) * M);
            for (int r = 0; r < M; r++) labels[r] = (r * 7 + 3) % N;
            float loss[2], *grads[2][3];
            for (int fused = 0; fused < 2; fused++) {
                nn_seed(17);
                nn_tensor *x = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(M, K)));
                nn_tensor *w = nn_requires_grad(transpose_w
                                                    ? nn_rand_uniform(-1, 1, NN_SHAPE(N, K))
                                                    : nn_rand_uniform(-1, 1, NN_SHAPE(K, N)));
                nn_tensor *b = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(N)));
                if (frozen) w->requires_grad = false;
                nn_tensor *bb = bias ? b : NULL;
                nn_tensor *xi = intermediate ? nn_mul_scalar(x, 1.5f) : x;
                nn_tensor *wi = intermediate ? nn_mul_scalar(w, 0.5f) : w;
                nn_tensor *l = fused ? nn_linear_cross_entropy(xi, wi, transpose_w, bb, labels)
                                     : unfused(xi, wi, transpose_w, bb, labels);
                loss[fused] = nn_item(l);
                nn_backward(nn_add(nn_mul_scalar(l, 2.5f), nn_mul_scalar(nn_sum(x), 0.1f)));
                nn_tensor *t[3] = {x, w, b};
                for (int k = 0; k < 3; k++) {
                    grads[fused][k] = malloc(sizeof(float) * t[k]->size);
                    memcpy(grads[fused][k], t[k]->grad, sizeof(float) * t[k]->size);
                }
                nn_graph_clear();
                for (int k = 0; k < 3; k++) nn_tensor_free(t[k]);
            }
            assert_float_equal(loss[1], loss[0], 2e-6 * fabsf(loss[0]));
            size_t sizes[3] = {(size_t)M * K, (size_t)K * N, (size_t)N};
            const char *names[3] = {"dx", "dw", "db"};
            for (int k = 0; k < 3; k++) {
                assert_close(grads[1][k], grads[0][k], sizes[k], 2e-5f, names[k]);
                if (k == 1 && frozen)
                    for (size_t i = 0; i < sizes[k]; i++) assert_true(grads[1][k][i] == 0.0f);
                free(grads[0][k]);
                free(grads[1][k]);
            }
            free(labels);
        }
}

/* Central differences through the fused op, for x, w and b, both layouts; x (B, T, K). */
static const int gc_labels[6] = {2, 0, 4, 4, 1, 3};
static bool gc_transpose;
static nn_tensor *gc_loss(nn_tensor **in, void *user) {
    (void)user;
    return nn_linear_cross_entropy(in[0], in[1], gc_transpose, in[2], gc_labels);
}
static void test_gradcheck(void **state) {
    (void)state;
    for (int t = 0; t < 2; t++) {
        gc_transpose = t;
        nn_seed(3);
        nn_tensor *in[3] = {
            nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(2, 3, 4))),
            nn_requires_grad(t ? nn_rand_uniform(-1, 1, NN_SHAPE(5, 4))
                               : nn_rand_uniform(-1, 1, NN_SHAPE(4, 5))),
            nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(5))),
        };
        nn_gradcheck_result r = nn_gradcheck(gc_loss, in, 3, NULL, 1e-2, 1e-2);
        if (!r.ok)
            fail_msg("gradcheck (transpose_w %d): input %d element %zu analytic %.6g numeric "
                     "%.6g", t, r.worst_input, r.worst_index, r.analytic, r.numeric);
        assert_true(r.checked > 0);
        for (int k = 0; k < 3; k++) nn_tensor_free(in[k]);
    }
}

/* Big enough for the rows of a chunk to go to the threads: the loss and every gradient bit
 * for bit the same on one thread and on three. Without grad mode, the same loss. */
static void test_threads_and_no_grad(void **state) {
    (void)state;
    enum { M = 520, K = 24, N = 1100 };
    int *labels = malloc(sizeof(int) * M);
    for (int r = 0; r < M; r++) labels[r] = (r * 131) % N;
    float loss[3], *grads[2][3];
    for (int run = 0; run < 3; run++) {
        int was = test_set_threads(run == 1 ? 3 : 1);
        nn_seed(23);
        nn_tensor *x = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(M, K)));
        nn_tensor *w = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(N, K)));
        nn_tensor *b = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(N)));
        bool was_grad = nn_set_grad_enabled(run < 2);
        nn_tensor *l = nn_linear_cross_entropy(x, w, true, b, labels);
        nn_set_grad_enabled(was_grad);
        loss[run] = nn_item(l);
        nn_tensor *t[3] = {x, w, b};
        if (run < 2) {
            nn_backward(l);
            for (int k = 0; k < 3; k++) {
                grads[run][k] = malloc(sizeof(float) * t[k]->size);
                memcpy(grads[run][k], t[k]->grad, sizeof(float) * t[k]->size);
            }
        } else {
            assert_false(l->requires_grad);   /* nothing recorded */
        }
        nn_graph_clear();
        for (int k = 0; k < 3; k++) nn_tensor_free(t[k]);
        test_restore_threads(was);
    }
    assert_true(loss[1] == loss[0] && loss[2] == loss[0]);
    size_t sizes[3] = {(size_t)M * K, (size_t)N * K, N};
    for (int k = 0; k < 3; k++) {
        assert_memory_equal(grads[1][k], grads[0][k], sizeof(float) * sizes[k]);
        free(grads[0][k]);
        free(grads[1][k]);
    }
    free(labels);
}

static void test_refusals(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(3, 4)), *w = nn_zeros(NN_SHAPE(4, 5));
    nn_tensor *b = nn_zeros(NN_SHAPE(4)), *v = nn_zeros(NN_SHAPE(4));
    const int labels[3] = {0, 4, 1}, bad[3] = {0, 5, 1};
    EXPECT_NN_ERROR(nn_linear_cross_entropy(x, w, true, NULL, labels),
                    "nn_linear_cross_entropy", "(N, K)", "x (3, 4) and w (4, 5)");
    EXPECT_NN_ERROR(nn_linear_cross_entropy(v, w, false, NULL, labels), "(..., K)");
    EXPECT_NN_ERROR(nn_linear_cross_entropy(x, w, false, b, labels), "b (4)", "N = 5");
    EXPECT_NN_ERROR(nn_linear_cross_entropy(x, w, false, NULL, bad), "labels[1] = 5",
                    "w (4, 5)", "C = 5");
    EXPECT_NN_ERROR(nn_linear_cross_entropy(x, w, false, NULL, NULL), "nn_linear_cross_entropy");
    nn_tensor *t[4] = {x, w, b, v};
    for (int k = 0; k < 4; k++) nn_tensor_free(t[k]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_matches_the_ops),
        NN_TEST(test_gradcheck),
        NN_TEST(test_threads_and_no_grad),
        NN_TEST(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
