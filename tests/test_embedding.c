/* tests/test_embedding.c — the embedding lookup nn_embedding and the embedding layer.
 *
 * Forward: every output row is the table row its id names. Backward: exact gradients for a
 * known loss (repeated ids add up), then central differences (nn_gradcheck) on
 * L = sum(y * R) + sum(W * W2) with fixed random R and W2, so that W reaches the loss by two
 * paths and a backward that overwrites instead of adding is caught. */
#include "testing.h"

/* An owned (V, E) table whose element [v][e] is 100 v + e: each value says where it sits. */
static nn_tensor *table(int V, int E) {
    nn_tensor *W = nn_zeros(NN_SHAPE(V, E));
    for (int v = 0; v < V; v++)
        for (int e = 0; e < E; e++) W->data[v * E + e] = (float)(100 * v + e);
    return W;
}

/* y[p, :] == W[ids[p], :] for the n positions. */
static void expect_rows(const nn_tensor *y, const nn_tensor *W, const int *ids, int n) {
    int E = W->shape[1];
    assert_int_equal(y->size, (size_t)n * E);
    for (int p = 0; p < n; p++)
        assert_memory_equal(y->data + p * E, W->data + ids[p] * E, E * sizeof(float));
}

/* ---- forward ---------------------------------------------------------------------------- */

static void test_embedding_forward_shapes(void **state) {
    (void)state;
    nn_tensor *W = table(7, 3);
    const int ids[6] = {4, 0, 6, 4, 1, 4};
    nn_tensor *y1 = nn_embedding(W, ids, NN_SHAPE(6));                  /* (N) -> (N, E) */
    assert_int_equal(y1->ndim, 2);
    assert_int_equal(y1->shape[0], 6);
    assert_int_equal(y1->shape[1], 3);
    expect_rows(y1, W, ids, 6);
    nn_tensor *y2 = nn_embedding(W, ids, NN_SHAPE(2, 3));               /* (B, T) -> (B, T, E) */
    assert_int_equal(y2->ndim, 3);
    assert_int_equal(y2->shape[0], 2);
    assert_int_equal(y2->shape[1], 3);
    assert_int_equal(y2->shape[2], 3);
    expect_rows(y2, W, ids, 6);
    assert_float_equal(nn_at(y2, 1, 2, 1), 401.0f, 0);                  /* ids[1 * 3 + 2] = 4 */
    nn_tensor *y3 = nn_embedding(W, ids, NN_SHAPE(3, 1, 2));            /* 3 dims -> 4 */
    assert_int_equal(y3->ndim, 4);
    assert_int_equal(y3->shape[3], 3);
    expect_rows(y3, W, ids, 6);
    /* W is owned and needs no grad: nothing to record */
    assert_false(y2->requires_grad);
    assert_null(y2->node);
    nn_graph_clear();
    nn_tensor_free(W);
}

/* ---- backward: exact values ----------------------------------------------------------- */

static void test_embedding_backward_adds_repeated_ids(void **state) {
    (void)state;
    nn_tensor *W = nn_requires_grad(table(5, 2));
    int ids[2][3] = {{1, 3, 1}, {1, 0, 3}};             /* 1 three times, 3 twice, 2 and 4 never */
    nn_tensor *y = nn_embedding(W, &ids[0][0], NN_SHAPE(2, 3));
    assert_true(y->requires_grad);
    /* the op copied the ids: changing them now must not move the gradient */
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 3; t++) ids[b][t] = 4;
    /* L = sum_p sum_e y[p, e] * (p + 1) (e + 1): dW[v, e] = (e + 1) * sum of (p + 1) over the
     * positions p holding v */
    nn_tensor *R = nn_zeros(NN_SHAPE(2, 3, 2));
    for (int p = 0; p < 6; p++)
        for (int e = 0; e < 2; e++) R->data[p * 2 + e] = (float)((p + 1) * (e + 1));
    nn_backward(nn_sum(nn_mul(y, R)));
    const float want_pos[5] = {5, 1 + 3 + 4, 0, 2 + 6, 0}; /* positions 1..6 by id */
    for (int v = 0; v < 5; v++)
        for (int e = 0; e < 2; e++)
            assert_float_equal(W->grad[v * 2 + e], want_pos[v] * (e + 1), 0);
    nn_graph_clear();
    nn_tensor_free(R);
    nn_tensor_free(W);
}

static void test_embedding_no_grad_mode_records_nothing(void **state) {
    (void)state;
    nn_tensor *W = nn_requires_grad(table(4, 2));
    bool was = nn_set_grad_enabled(false);
    int before = nn_graph_node_count();
    nn_tensor *y = nn_embedding(W, (const int[]){3, 3}, NN_SHAPE(2));
    assert_int_equal(nn_graph_node_count(), before);
    assert_false(y->requires_grad);
    expect_rows(y, W, (const int[]){3, 3}, 2);
    nn_set_grad_enabled(was);
    nn_graph_clear();
    nn_tensor_free(W);
}

/* ---- backward: central differences ---------------------------------------------------- */

typedef struct {
    const int *ids;
    int ndim;
    const int *shape;
    nn_tensor *R, *W2;   /* fixed weights, made on first use */
} emb_ctx;

static nn_tensor *emb_loss(nn_tensor **in, void *user) {
    emb_ctx *c = user;
    nn_tensor *y = nn_embedding(in[0], c->ids, c->ndim, c->shape);
    if (!c->R) {
        nn_rng rng;
        nn_rng_seed(&rng, 7);
        c->R = nn_zeros(y->ndim, y->shape);
        nn_fill_uniform(c->R, -1, 1, &rng);
        c->W2 = nn_zeros(in[0]->ndim, in[0]->shape);
        nn_fill_uniform(c->W2, -1, 1, &rng);
    }
    /* W used twice: through the lookup, squared, and directly */
    return nn_add(nn_sum(nn_mul(nn_square(y), c->R)), nn_sum(nn_mul(in[0], c->W2)));
}

static void check_embedding_grad(const int *ids, int ndim, const int *shape) {
    nn_tensor *W = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(6, 3)));
    emb_ctx c = {ids, ndim, shape, NULL, NULL};
    nn_gradcheck_result r = nn_gradcheck(emb_loss, &W, 1, &c, 1e-2, 1e-3);
    printf("  gradcheck embedding, ids of %d dims: %zu elements, max rel err %.2e\n", ndim,
           r.checked, r.max_rel_err);
    if (!r.ok)
        fail_msg("element %zu: analytic %.6g numeric %.6g (rel %.3g)", r.worst_index,
                 r.analytic, r.numeric, r.max_rel_err);
    assert_int_equal(r.checked, 18);
    nn_tensor_free(c.R);
    nn_tensor_free(c.W2);
    nn_tensor_free(W);
}

static void test_embedding_gradcheck_n_ids(void **state) {
    (void)state;
    const int ids[7] = {2, 5, 2, 0, 2, 5, 1};   /* repeated; rows 3 and 4 unused */
    check_embedding_grad(ids, NN_SHAPE(7));
}

static void test_embedding_gradcheck_bt_ids(void **state) {
    (void)state;
    const int ids[2 * 4] = {1, 1, 4, 0, 5, 1, 4, 4};
    check_embedding_grad(ids, NN_SHAPE(2, 4));
}

/* ---- the layer ------------------------------------------------------------------------ */

static void test_embedding_layer_params_and_forward(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_embedding_layer *emb = nn_embedding_layer_new(m, "emb", 50, 40, 0);   /* std 1 */
    nn_embedding_layer *small = nn_embedding_layer_new(m, "small", 50, 40, 0.02f);
    assert_int_equal(emb->vocab, 50);
    assert_int_equal(emb->dim, 40);
    assert_ptr_equal(nn_model_find(m, "emb.W"), emb->W);
    assert_ptr_equal(nn_model_find(m, "small.W"), small->W);
    assert_int_equal(emb->W->shape[0], 50);
    assert_int_equal(emb->W->shape[1], 40);
    assert_int_equal(m->count, 2 * 50 * 40);
    /* normal(0, std): 2000 draws each */
    const nn_embedding_layer *layers[2] = {emb, small};
    const float want_std[2] = {1.0f, 0.02f};
    for (int k = 0; k < 2; k++) {
        double sum = 0, sq = 0;
        const nn_tensor *W = layers[k]->W;
        for (size_t i = 0; i < W->size; i++) {
            sum += W->data[i];
            sq += (double)W->data[i] * W->data[i];
        }
        double mean = sum / (double)W->size, std = sqrt(sq / (double)W->size - mean * mean);
        assert_true(fabs(mean) < 0.1 * want_std[k]);
        assert_true(fabs(std / want_std[k] - 1) < 0.1);
    }
    const int ids[2 * 3] = {49, 0, 7, 7, 7, 12};
    nn_tensor *y = nn_embedding_layer_forward(emb, ids, 2, 3);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[0], 2);
    assert_int_equal(y->shape[1], 3);
    assert_int_equal(y->shape[2], 40);
    expect_rows(y, emb->W, ids, 6);
    /* the parameter collects the gradient: token 7 three times */
    nn_model_zero_grad(m);
    nn_backward(nn_sum(y));
    for (int e = 0; e < 40; e++) {
        assert_float_equal(emb->W->grad[7 * 40 + e], 3.0f, 0);
        assert_float_equal(emb->W->grad[1 * 40 + e], 0.0f, 0);
    }
    nn_graph_clear();
    /* frozen: the lookup still works and records no gradient for the table */
    nn_model_freeze(m, "emb.");
    y = nn_embedding_layer_forward(emb, ids, 2, 3);
    assert_false(y->requires_grad);
    nn_graph_clear();
    nn_model_free(m);
}

/* gradient check wrt the layer's own parameter tensor */
typedef struct { nn_embedding_layer *emb; nn_tensor *R; } layer_ctx;
static nn_tensor *layer_loss(nn_tensor **in, void *user) {
    (void)in;
    layer_ctx *c = user;
    const int ids[3 * 2] = {3, 1, 3, 3, 0, 1};
    return nn_sum(nn_mul(nn_tanh(nn_embedding_layer_forward(c->emb, ids, 3, 2)), c->R));
}
static void test_embedding_layer_gradcheck(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    layer_ctx c = {nn_embedding_layer_new(m, "emb", 4, 5, 0.5f), NULL};
    c.R = nn_rand_uniform(-1, 1, NN_SHAPE(3, 2, 5));
    nn_gradcheck_result r = nn_gradcheck(layer_loss, &c.emb->W, 1, &c, 1e-2, 1e-3);
    printf("  gradcheck embedding layer: %zu elements, max rel err %.2e\n", r.checked,
           r.max_rel_err);
    assert_true(r.ok);
    assert_int_equal(r.checked, 20);
    nn_tensor_free(c.R);
    nn_model_free(m);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static void test_embedding_errors(void **state) {
    (void)state;
    nn_tensor *W = table(5, 3);
    nn_tensor *v = nn_zeros(NN_SHAPE(5));
    const int ids[6] = {0, 1, 2, 3, 4, 2};
    const int bad_hi[6] = {0, 1, 2, 3, 4, 5};
    const int bad_lo[4] = {0, -1, 2, 3};
    EXPECT_NN_ERROR(nn_embedding(W, bad_hi, NN_SHAPE(2, 3)), "nn_embedding",
                    "ids[5] = 5 at (1, 2)", "out of range", "(5, 3)", "V = 5", "test_embedding.c");
    EXPECT_NN_ERROR(nn_embedding(W, bad_lo, NN_SHAPE(4)), "nn_embedding", "ids[1] = -1 is out");
    EXPECT_NN_ERROR(nn_embedding(W, bad_hi, NN_SHAPE(1, 2, 3)), "ids[5] = 5 at (0, 1, 2)");
    EXPECT_NN_ERROR(nn_embedding(v, ids, NN_SHAPE(6)), "nn_embedding", "(V, E)", "(5)");
    EXPECT_NN_ERROR(nn_embedding(W, ids, NN_SHAPE(1, 1, 2, 3)), "nn_embedding", "1 to 3 dims");
    EXPECT_NN_ERROR(nn_embedding(W, ids, 0, NULL), "nn_embedding", "0 dims");
    EXPECT_NN_ERROR(nn_embedding(W, ids, NN_SHAPE(2, 0)), "nn_embedding", "dim 1 has size 0");
    EXPECT_NN_ERROR(nn_embedding(W, NULL, NN_SHAPE(2)), "nn_embedding", "is NULL");
    EXPECT_NN_ERROR(nn_embedding(NULL, ids, NN_SHAPE(2)), "nn_embedding", "is NULL");

    nn_model *m = nn_model_new();
    EXPECT_NN_ERROR(nn_embedding_layer_new(m, "e", 0, 4, 0), "nn_embedding_layer_new",
                    "vocab = 0");
    EXPECT_NN_ERROR(nn_embedding_layer_new(m, "e", 4, -2, 0), "dim = -2");
    nn_embedding_layer *emb = nn_embedding_layer_new(m, "e", 5, 3, 0);
    EXPECT_NN_ERROR(nn_embedding_layer_new(m, "e", 5, 3, 0), "already exists");
    EXPECT_NN_ERROR(nn_embedding_layer_forward(emb, ids, 0, 3), "nn_embedding_layer_forward",
                    "B = 0");
    EXPECT_NN_ERROR(nn_embedding_layer_forward(emb, bad_hi, 3, 2), "nn_embedding",
                    "ids[5] = 5 at (2, 1)", "test_embedding.c");
    EXPECT_NN_ERROR(nn_embedding_layer_forward(NULL, ids, 3, 2), "is NULL");
    nn_model_free(m);
    nn_tensor_free(v);
    nn_tensor_free(W);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_embedding_forward_shapes),
        NN_TEST(test_embedding_backward_adds_repeated_ids),
        NN_TEST(test_embedding_no_grad_mode_records_nothing),
        NN_TEST(test_embedding_gradcheck_n_ids),
        NN_TEST(test_embedding_gradcheck_bt_ids),
        NN_TEST(test_embedding_layer_params_and_forward),
        NN_TEST(test_embedding_layer_gradcheck),
        NN_TEST(test_embedding_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
