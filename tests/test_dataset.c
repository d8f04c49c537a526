/* tests/test_dataset.c — data sets: copies on init, seeded shuffling (same seed, same order;
 * always a permutation), batches that hold the right rows and labels and live in the graph
 * (no per-step leak), targets, the train/validation split (by count and by fraction), and
 * misuse messages. */
#include "testing.h"

#include <stdlib.h>

/* N samples of shape (2, 3); sample i holds 100 * i + j, j = 0..5; label i % 4. */
static void make_set(nn_dataset *ds, int n, bool with_y) {
    nn_tensor *X = nn_zeros(NN_SHAPE(n, 2, 3));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 6; j++) X->data[i * 6 + j] = (float)(100 * i + j);
    int *labels = malloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) labels[i] = i % 4;
    nn_tensor *Y = NULL;
    if (with_y) {
        Y = nn_zeros(NN_SHAPE(n, 1));
        for (int i = 0; i < n; i++) Y->data[i] = -(float)i;
    }
    assert_int_equal(nn_dataset_init(ds, X, labels, Y), 0);
    nn_tensor_free(X);
    nn_tensor_free(Y);
    free(labels);
}

static bool is_permutation(const int *a, int n) {
    bool *seen = calloc((size_t)n, 1);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        if (a[i] < 0 || a[i] >= n || seen[a[i]]) ok = false;
        else seen[a[i]] = true;
    }
    free(seen);
    return ok;
}

static void test_init_copies(void **state) {
    (void)state;
    float xv[4] = {1, 2, 3, 4};
    int lab[2] = {0, 5};
    nn_tensor *X = nn_from_array(xv, NN_SHAPE(2, 2));
    nn_dataset ds;
    assert_int_equal(nn_dataset_init(&ds, X, lab, NULL), 0);
    X->data[0] = 99.0f; /* the data set has its own copy */
    lab[0] = 3;
    assert_true(ds.X->data[0] == 1.0f);
    assert_int_equal(ds.labels[0], 0);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.num_classes, 6);
    assert_null(ds.Y);
    for (int i = 0; i < 2; i++) assert_int_equal(ds.order[i], i);
    nn_dataset_free(&ds);
    assert_null(ds.X);
    assert_int_equal(ds.n, 0);
    nn_dataset_free(&ds); /* twice is harmless */
    nn_tensor_free(X);
}

static void test_shuffle_is_seeded_permutation(void **state) {
    (void)state;
    enum { N = 50 };
    nn_dataset a, b;
    make_set(&a, N, false);
    make_set(&b, N, false);
    nn_rng r1, r2;
    nn_rng_seed(&r1, 7);
    nn_rng_seed(&r2, 7);
    nn_dataset_shuffle(&a, &r1);
    nn_dataset_shuffle(&b, &r2);
    assert_true(is_permutation(a.order, N));
    assert_memory_equal(a.order, b.order, N * sizeof(int));
    int moved = 0;
    for (int i = 0; i < N; i++) moved += a.order[i] != i;
    assert_true(moved > N / 2);

    /* the order depends on the generator only, not on earlier shuffles */
    int first[N];
    memcpy(first, a.order, sizeof first);
    nn_dataset_shuffle(&a, &r1); /* a new epoch: a new order */
    assert_true(is_permutation(a.order, N));
    assert_true(memcmp(first, a.order, sizeof first) != 0);
    nn_rng_seed(&r1, 7);
    nn_dataset_shuffle(&a, &r1);
    assert_memory_equal(first, a.order, sizeof first);

    /* another seed, another order; NULL uses the global generator, seeded by nn_seed */
    nn_rng_seed(&r2, 8);
    nn_dataset_shuffle(&b, &r2);
    assert_true(memcmp(first, b.order, sizeof first) != 0);
    nn_seed(7);
    nn_dataset_shuffle(&b, NULL);
    int g1[N];
    memcpy(g1, b.order, sizeof g1);
    nn_seed(7);
    nn_dataset_shuffle(&b, NULL);
    assert_memory_equal(g1, b.order, sizeof g1);

    nn_dataset_free(&a);
    nn_dataset_free(&b);
}

static void test_batch_content(void **state) {
    (void)state;
    enum { N = 10 };
    nn_dataset ds;
    make_set(&ds, N, true);
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    nn_dataset_shuffle(&ds, &rng);

    int y[4] = {-1, -1, -1, -1};
    nn_tensor *x = nn_dataset_batch(&ds, 3, 4, y);
    assert_non_null(x);
    assert_int_equal(x->ndim, 3);
    assert_int_equal(x->shape[0], 4);
    assert_int_equal(x->shape[1], 2);
    assert_int_equal(x->shape[2], 3);
    for (int r = 0; r < 4; r++) {
        int i = ds.order[3 + r];
        for (int j = 0; j < 6; j++) assert_true(x->data[r * 6 + j] == (float)(100 * i + j));
        assert_int_equal(y[r], i % 4);
    }
    nn_tensor *t = nn_dataset_batch_targets(&ds, 3, 4);
    for (int r = 0; r < 4; r++) assert_true(t->data[r] == -(float)ds.order[3 + r]);

    /* the last batch is cut at N */
    nn_tensor *last = nn_dataset_batch(&ds, 8, 5, NULL);
    assert_int_equal(last->shape[0], 2);
    assert_true(last->data[0] == (float)(100 * ds.order[8]));

    /* one epoch in batches of 3 sees every sample once */
    int seen[N] = {0};
    for (int s = 0; s < N; s += 3) {
        int lab[3];
        nn_tensor *b = nn_dataset_batch(&ds, s, 3, lab);
        for (int r = 0; r < b->shape[0]; r++) seen[(int)(b->data[r * 6] / 100.0f)]++;
    }
    for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
    nn_graph_clear();
    nn_dataset_free(&ds);
}

static void test_batches_live_in_the_graph(void **state) {
    (void)state;
    nn_dataset ds;
    make_set(&ds, 64, false);
    nn_graph_clear();
    assert_int_equal((int)nn_graph_bytes_used(), 0);
    int lab[16];
    nn_tensor *x = nn_dataset_batch(&ds, 0, 16, lab);
    assert_non_null(x);
    assert_true(nn_graph_bytes_used() >= 16 * 6 * sizeof(float));
    nn_graph_clear();
    assert_int_equal((int)nn_graph_bytes_used(), 0);

    /* many steps: the arena's peak does not grow after the first epoch */
    nn_rng rng;
    nn_rng_seed(&rng, 1);
    for (int s = 0; s < 64; s += 16) {
        nn_dataset_batch(&ds, s, 16, lab);
        nn_graph_clear();
    }
    size_t peak = nn_graph_bytes_peak();
    for (int epoch = 0; epoch < 20; epoch++) {
        nn_dataset_shuffle(&ds, &rng);
        for (int s = 0; s < 64; s += 16) {
            nn_dataset_batch(&ds, s, 16, lab);
            nn_graph_clear();
        }
    }
    assert_int_equal((int)nn_graph_bytes_peak(), (int)peak);
    nn_dataset_free(&ds);
}

static void test_split(void **state) {
    (void)state;
    enum { N = 10 };
    nn_dataset all, train, val;
    make_set(&all, N, true);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_dataset_shuffle(&all, &rng);
    assert_int_equal(nn_dataset_split(&all, 3, &train, &val), 0);
    assert_int_equal(train.n, 7);
    assert_int_equal(val.n, 3);
    assert_int_equal(train.X->shape[0], 7);
    assert_int_equal(val.X->shape[0], 3);
    assert_int_equal(train.num_classes, 4);
    assert_int_equal(val.num_classes, 4);
    for (int r = 0; r < 7; r++) {
        int i = all.order[r];
        assert_true(train.X->data[r * 6 + 5] == (float)(100 * i + 5));
        assert_int_equal(train.labels[r], i % 4);
        assert_true(train.Y->data[r] == -(float)i);
        assert_int_equal(train.order[r], r);
    }
    for (int r = 0; r < 3; r++) {
        int i = all.order[7 + r];
        assert_true(val.X->data[r * 6] == (float)(100 * i));
        assert_int_equal(val.labels[r], i % 4);
    }
    /* src is unchanged and the parts are independent copies */
    assert_int_equal(all.n, N);
    train.X->data[0] = -5.0f;
    assert_true(all.X->data[all.order[0] * 6] == (float)(100 * all.order[0]));
    nn_dataset_free(&all);
    nn_dataset_free(&train);
    nn_dataset_free(&val);
}

static void test_split_fraction(void **state) {
    (void)state;
    nn_dataset all, train, val, t2, v2;
    make_set(&all, 10, true);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    nn_dataset_shuffle(&all, &rng);
    /* fraction of N = 10 -> n_val: to the nearest, halves up, kept in 1 .. N-1 */
    struct { double f; int n_val; } cases[] = {
        {0.2, 2}, {0.25, 3}, {0.35, 4}, {0.5, 5}, {0.01, 1}, {0.04, 1}, {0.06, 1}, {0.96, 9},
        {0.999, 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(nn_dataset_split_fraction(&all, cases[i].f, &train, &val), 0);
        if (val.n != cases[i].n_val)
            fail_msg("val_fraction %g of 10 gave %d validation samples, want %d", cases[i].f,
                     val.n, cases[i].n_val);
        assert_int_equal(train.n, 10 - cases[i].n_val);
        /* the same as the split by count */
        assert_int_equal(nn_dataset_split(&all, cases[i].n_val, &t2, &v2), 0);
        assert_memory_equal(train.X->data, t2.X->data, train.X->size * sizeof(float));
        assert_memory_equal(val.X->data, v2.X->data, val.X->size * sizeof(float));
        assert_memory_equal(val.labels, v2.labels, (size_t)val.n * sizeof(int));
        assert_memory_equal(val.Y->data, v2.Y->data, val.Y->size * sizeof(float));
        nn_dataset_free(&train);
        nn_dataset_free(&val);
        nn_dataset_free(&t2);
        nn_dataset_free(&v2);
    }
    /* two samples: one on each side */
    nn_dataset pair;
    make_set(&pair, 2, false);
    assert_int_equal(nn_dataset_split_fraction(&pair, 0.9, &train, &val), 0);
    assert_int_equal(train.n, 1);
    assert_int_equal(val.n, 1);
    nn_dataset_free(&train);
    nn_dataset_free(&val);

    /* misuse */
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&all, 0.0, &train, &val),
                    "nn_dataset_split_fraction", "val_fraction = 0", "between 0 and 1");
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&all, 1.0, &train, &val), "val_fraction = 1");
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&all, -0.2, &train, &val), "val_fraction = -0.2");
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&all, NAN, &train, &val), "val_fraction = nan");
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&all, 0.5, &all, &val), "twice");
    EXPECT_NN_ERROR(nn_dataset_split_fraction(NULL, 0.5, &train, &val), "NULL");
    nn_dataset one;
    make_set(&one, 1, false);
    EXPECT_NN_ERROR(nn_dataset_split_fraction(&one, 0.5, &train, &val), "N = 1 cannot be split");
    nn_dataset_free(&one);
    nn_dataset_free(&pair);
    nn_dataset_free(&all);
}

static void test_misuse(void **state) {
    (void)state;
    nn_dataset ds, other, third;
    make_set(&ds, 5, false);
    int lab[8];
    EXPECT_NN_ERROR(nn_dataset_batch(&ds, 5, 2, lab), "nn_dataset_batch", "start = 5", "N = 5");
    EXPECT_NN_ERROR(nn_dataset_batch(&ds, -1, 2, lab), "nn_dataset_batch", "start = -1");
    EXPECT_NN_ERROR(nn_dataset_batch(&ds, 0, 0, lab), "count = 0");
    EXPECT_NN_ERROR(nn_dataset_batch_targets(&ds, 0, 2), "no targets Y");
    EXPECT_NN_ERROR(nn_dataset_split(&ds, 0, &other, &third), "nn_dataset_split", "n_val = 0");
    EXPECT_NN_ERROR(nn_dataset_split(&ds, 5, &other, &third), "n_val = 5");
    EXPECT_NN_ERROR(nn_dataset_split(&ds, 2, &ds, &third), "twice");

    nn_dataset nolab;
    nn_tensor *X = nn_zeros(NN_SHAPE(3, 2));
    assert_int_equal(nn_dataset_init(&nolab, X, NULL, NULL), 0);
    assert_int_equal(nolab.num_classes, 0);
    EXPECT_NN_ERROR(nn_dataset_batch(&nolab, 0, 2, lab), "no labels");
    nn_tensor *b = nn_dataset_batch(&nolab, 0, 2, NULL); /* fine without labels_out */
    assert_int_equal(b->shape[0], 2);
    nn_graph_clear();

    nn_tensor *Y = nn_zeros(NN_SHAPE(4, 1));
    int neg[3] = {0, -2, 1};
    nn_dataset bad;
    EXPECT_NN_ERROR(nn_dataset_init(&bad, X, NULL, Y), "nn_dataset_init", "(3, 2)", "(4, 1)");
    EXPECT_NN_ERROR(nn_dataset_init(&bad, X, neg, NULL), "labels[1] = -2");
    nn_dataset empty = {0};
    EXPECT_NN_ERROR(nn_dataset_batch(&empty, 0, 1, NULL), "empty");

    /* byte data sets: what init_bytes refuses, and a batch of one without labels */
    const unsigned char px[6] = {0, 51, 102, 153, 204, 255};
    EXPECT_NN_ERROR(nn_dataset_init_bytes(&bad, px, 2, (int[]){3, 2}, 0.0f, NULL), "divisor = 0");
    EXPECT_NN_ERROR(nn_dataset_init_bytes(&bad, px, 2, (int[]){3, 0}, 255.0f, NULL),
                    "x_shape[1] = 0");
    EXPECT_NN_ERROR(nn_dataset_init_bytes(&bad, px, 2, (int[]){3, 2}, 255.0f, neg), "labels[1]");
    EXPECT_NN_ERROR(nn_dataset_init_bytes(&bad, NULL, 2, (int[]){3, 2}, 255.0f, NULL), "bytes");
    nn_dataset by;
    assert_int_equal(nn_dataset_init_bytes(&by, px, 2, (int[]){3, 2}, 255.0f, NULL), 0);
    nn_tensor *row = nn_dataset_batch(&by, 2, 5, NULL);   /* cut at N: one row */
    assert_int_equal(row->shape[0], 1);
    assert_int_equal(row->shape[1], 2);
    assert_true(row->data[0] == 204 / 255.0f && row->data[1] == 1.0f);
    EXPECT_NN_ERROR(nn_dataset_batch(&by, 0, 1, lab), "no labels", "(3, 2)");
    nn_graph_clear();
    nn_dataset_free(&by);

    nn_tensor_free(X);
    nn_tensor_free(Y);
    nn_dataset_free(&nolab);
    nn_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_init_copies),
        NN_TEST(test_shuffle_is_seeded_permutation),
        NN_TEST(test_batch_content),
        NN_TEST(test_batches_live_in_the_graph),
        NN_TEST(test_split),
        NN_TEST(test_split_fraction),
        NN_TEST(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
