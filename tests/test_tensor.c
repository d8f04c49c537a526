/* tests/test_tensor.c — constructors, shapes, printing, the random number generator. */
#include "testing.h"
#include <stdlib.h>

static void test_constructors(void **state) {
    (void)state;
    nn_tensor *z = nn_zeros(NN_SHAPE(2, 3));
    assert_int_equal(z->ndim, 2);
    assert_int_equal(z->size, 6);
    assert_int_equal(z->shape[0], 2);
    assert_int_equal(z->shape[1], 3);
    assert_null(z->grad);
    for (size_t i = 0; i < z->size; i++) assert_float_equal(z->data[i], 0.0f, 0.0f);

    nn_tensor *f = nn_full(2.5f, NN_SHAPE(4));
    nn_tensor *o = nn_ones(NN_SHAPE(1, 2, 3, 4));
    assert_int_equal(o->size, 24);
    assert_float_equal(f->data[3], 2.5f, 0.0f);
    assert_float_equal(o->data[23], 1.0f, 0.0f);

    float values[6] = {1, 2, 3, 4, 5, 6};
    nn_tensor *a = nn_from_array(values, NN_SHAPE(2, 3));
    values[0] = 100; /* the tensor keeps its own copy */
    assert_float_equal(nn_at(a, 0, 0), 1.0f, 0.0f);
    assert_float_equal(nn_at(a, 1, 2), 6.0f, 0.0f);

    nn_tensor *s = nn_scalar(7.0f);
    assert_int_equal(s->ndim, 0);
    assert_int_equal(s->size, 1);
    assert_float_equal(nn_item(s), 7.0f, 0.0f);

    nn_tensor *c = nn_clone(a);
    assert_ptr_not_equal(c->data, a->data);
    assert_floats_near(c->data, a->data, 6, 0.0f);

    nn_requires_grad(a);
    assert_non_null(a->grad);
    assert_true(a->requires_grad);

    nn_tensor *all[] = {z, f, o, a, s, c};
    for (size_t i = 0; i < 6; i++) nn_tensor_free(all[i]);
    nn_tensor_free(NULL); /* allowed, like free(NULL) */
}

static void test_shape_str_and_print(void **state) {
    (void)state;
    nn_tensor *t = nn_from_array((float[]){1, 2, 3, 4, 5, 6}, NN_SHAPE(2, 3));
    char buf[64];
    assert_string_equal(nn_shape_str(t, buf, sizeof buf), "(2, 3)");
    nn_tensor *s = nn_scalar(1);
    assert_string_equal(nn_shape_str(s, buf, sizeof buf), "()");

    FILE *f = tmpfile();
    nn_tensor_fprint(f, t, "weights", 8);
    char *text = stream_text(f);
    fclose(f);
    assert_true(strlen(text) > 0);
    assert_non_null(strstr(text, "weights: shape (2, 3)"));
    assert_non_null(strstr(text, "6.0000"));
    free(text);
    nn_tensor_free(t);
    nn_tensor_free(s);
}

static void test_bad_shapes_are_refused(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_zeros(NN_SHAPE(2, 0)), "nn_zeros", "dimension 1 has size 0");
    EXPECT_NN_ERROR(nn_zeros(5, (const int[]){1, 1, 1, 1, 1}), "ndim 5");
    nn_tensor *t = nn_zeros(NN_SHAPE(2, 2));
    EXPECT_NN_ERROR(nn_item(t), "nn_item", "4 elements");
    EXPECT_NN_ERROR(nn_at(t, 0, 2), "index 2 out of range");
    nn_tensor_free(t);
}

static void test_rng_is_deterministic(void **state) {
    (void)state;
    nn_rng a, b;
    nn_rng_seed(&a, 7);
    nn_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) assert_int_equal(nn_rng_u32(&a), nn_rng_u32(&b));
    nn_rng_seed(&b, 8);
    int same = 0;
    for (int i = 0; i < 100; i++) same += nn_rng_u32(&a) == nn_rng_u32(&b);
    assert_true(same < 3);

    /* the global generator: same seed, same tensor */
    nn_seed(5);
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(10));
    nn_seed(5);
    nn_tensor *y = nn_rand_normal(0, 1, NN_SHAPE(10));
    assert_floats_near(x->data, y->data, 10, 0.0f);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

static void test_rng_distributions(void **state) {
    (void)state;
    nn_rng r;
    nn_rng_seed(&r, 1);
    enum { N = 200000 };
    double su = 0, sn = 0, sn2 = 0;
    float umin = 1, umax = 0;
    int counts[5] = {0};
    for (int i = 0; i < N; i++) {
        float u = nn_rng_uniform(&r);
        su += u;
        umin = u < umin ? u : umin;
        umax = u > umax ? u : umax;
        float g = nn_rng_normal(&r);
        sn += g;
        sn2 += (double)g * g;
        counts[nn_rng_int(&r, 5)]++;
    }
    assert_true(umin >= 0.0f && umax < 1.0f);
    assert_true(fabs(su / N - 0.5) < 0.01);
    assert_true(fabs(sn / N) < 0.01);
    assert_true(fabs(sn2 / N - 1.0) < 0.02);
    for (int k = 0; k < 5; k++) assert_true(abs(counts[k] - N / 5) < N / 50);

    int perm[50];
    for (int i = 0; i < 50; i++) perm[i] = i;
    nn_rng_shuffle(&r, perm, 50);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        seen[perm[i]]++;
        moved += perm[i] != i;
    }
    for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1); /* still a permutation */
    assert_true(moved > 40);
}

/* The option parser on a good command line (its errors: tests/test_args.c). */
static void test_args(void **state) {
    (void)state;
    char *argv[] = {"prog", "--quick", "--seed", "123", "--lr", "0.5", "--epochs", "7", NULL};
    int argc = 8;
    bool quick = false, full = false;
    uint64_t seed = 42;
    int epochs = 1, steps = 9;
    float lr = 0.1f;
    const char *out = ".";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "q"),       NN_OPT_FLAG("--full", &full, "f"),
        NN_OPT_SEED(&seed),                         NN_OPT_INT("--epochs", &epochs, 1, 100, "e"),
        NN_OPT_INT("--steps", &steps, 1, 100, "s"), NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "l"),
        NN_OPT_STR("--out", &out, "DIR", "o"),
    };
    nn_parse_options(argc, argv, NULL, opts, NN_COUNTOF(opts));
    assert_true(quick);
    assert_false(full);
    assert_int_equal(seed, 123);
    assert_int_equal(epochs, 7);
    assert_int_equal(steps, 9);
    assert_float_equal(lr, 0.5, 1e-12);
    assert_string_equal(out, ".");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_constructors),       NN_TEST(test_shape_str_and_print),
        NN_TEST(test_bad_shapes_are_refused), NN_TEST(test_rng_is_deterministic),
        NN_TEST(test_rng_distributions),  NN_TEST(test_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
