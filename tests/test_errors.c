/* tests/test_errors.c — misuse is reported with the op, the shapes, the caller's file:line and a
 * hint; a handler can catch it; a handler that returns makes the op return NULL. */
#include "testing.h"
#include <sys/wait.h>
#include <unistd.h>

static void test_messages_name_op_shapes_and_site(void **state) {
    (void)state;
    nn_tensor *a = nn_zeros(NN_SHAPE(2, 3)), *b = nn_zeros(NN_SHAPE(4, 5));
    int line = __LINE__ + 1;
    EXPECT_NN_ERROR(nn_matmul(a, b), "nn_matmul", "(2, 3)", "(4, 5)", "test_errors.c:", "hint:");
    char where[64];
    snprintf(where, sizeof where, "test_errors.c:%d", line);
    assert_non_null(strstr(nn_test_message, where));

    EXPECT_NN_ERROR(nn_add(a, b), "nn_add", "do not broadcast", "(2, 3)", "(4, 5)");
    EXPECT_NN_ERROR(nn_mse_loss(a, b), "nn_mse_loss", "(2, 3)", "(4, 5)");
    nn_tensor_free(a);
    nn_tensor_free(b);
}

static void test_shape_errors_of_many_ops(void **state) {
    (void)state;
    nn_tensor *m = nn_zeros(NN_SHAPE(2, 3)), *v = nn_zeros(NN_SHAPE(3)), *col = nn_zeros(NN_SHAPE(2, 1));
    EXPECT_NN_ERROR(nn_sum_axis(m, 2, false), "nn_sum_axis", "axis 2 is out of range", "(2, 3)");
    EXPECT_NN_ERROR(nn_max_axis(m, -3, false), "nn_max_axis", "axis -3");
    EXPECT_NN_ERROR(nn_reshape(m, NN_SHAPE(4, 2)), "nn_reshape", "6 elements");
    EXPECT_NN_ERROR(nn_reshape(m, NN_SHAPE(-1, 4)), "nn_reshape", "infer");
    EXPECT_NN_ERROR(nn_rows(m, 1, 2), "nn_rows", "(2, 3)");
    EXPECT_NN_ERROR(nn_take_rows(m, (const int[]){0, 2}, 2), "nn_take_rows", "index[1] = 2");
    EXPECT_NN_ERROR(nn_transpose(v), "nn_transpose", "(3)");
    EXPECT_NN_ERROR(nn_matmul(v, m), "nn_matmul", "unsupported");
    EXPECT_NN_ERROR(nn_mse_loss(v, col), "nn_mse_loss", "(3)", "(2, 1)");
    EXPECT_NN_ERROR(nn_softmax(nn_sum(m)), "nn_softmax", "axis");
    nn_tensor_free(m);
    nn_tensor_free(v);
    nn_tensor_free(col);
}

static void test_label_errors(void **state) {
    (void)state;
    nn_tensor *z = nn_zeros(NN_SHAPE(3, 4)), *flat = nn_zeros(NN_SHAPE(12));
    EXPECT_NN_ERROR(nn_cross_entropy_loss(z, (const int[]){0, 4, 1}), "nn_cross_entropy_loss",
                    "labels[1] = 4", "C = 4", "0 .. C-1");
    EXPECT_NN_ERROR(nn_cross_entropy_loss(z, (const int[]){0, -1, 1}), "labels[1] = -1");
    EXPECT_NN_ERROR(nn_cross_entropy_loss(flat, (const int[]){0}), "(N, C)");
    nn_tensor_free(z);
    nn_tensor_free(flat);
}

static void test_layer_and_backward_errors(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l = nn_linear_layer_new(m, "fc", 3, 2, NN_INIT_HE);
    nn_tensor *x = nn_zeros(NN_SHAPE(5, 4));
    EXPECT_NN_ERROR(nn_linear_layer_forward(l, x), "nn_linear_layer_forward", "(5, 4)", "in = 3");
    nn_tensor *good = nn_zeros(NN_SHAPE(5, 3));
    nn_tensor *y = nn_linear_layer_forward(l, good);
    EXPECT_NN_ERROR(nn_backward(y), "nn_backward", "(5, 2)", "nn_mean");
    y = nn_linear_layer_forward(l, good);
    EXPECT_NN_ERROR(nn_tensor_free(y), "nn_tensor_free", "nn_graph_clear");
    EXPECT_NN_ERROR(nn_tensor_free(l->W), "nn_tensor_free", "nn_model_free");
    nn_tensor_free(x);
    nn_tensor_free(good);
    nn_model_free(m);
}

/* A handler that returns: the failing op returns NULL, and NULL flowing into the next op is
 * reported as such instead of crashing. */
static int returned_calls;
static void counting_handler(const nn_error *err, void *user) {
    (void)err;
    returned_calls++;
    *(int *)user += 1;
}

static void test_returning_handler_gives_null(void **state) {
    (void)state;
    int count = 0;
    returned_calls = 0;
    nn_error_handler prev = nn_set_error_handler(counting_handler, &count);
    nn_tensor *a = nn_zeros(NN_SHAPE(2, 3)), *b = nn_zeros(NN_SHAPE(2, 2));
    nn_tensor *c = nn_matmul(b, a);   /* fine: (2,2)@(2,3) */
    assert_non_null(c);
    nn_tensor *bad = nn_matmul(a, b); /* (2,3)@(2,2): error, NULL */
    assert_null(bad);
    nn_tensor *next = nn_relu(bad);   /* NULL in: reported, NULL out */
    assert_null(next);
    assert_int_equal(count, 2);
    assert_non_null(strstr(nn_last_error(), "is NULL"));
    nn_set_error_handler(prev, NULL);
    nn_tensor_free(a);
    nn_tensor_free(b);
}

static void test_bad_input_errors_do_not_call_handler(void **state) {
    (void)state;
    assert_int_equal(nn_set_last_error("cannot open %s", "x.png"), -1);
    assert_string_equal(nn_last_error(), "cannot open x.png");
}

static void test_default_handler_aborts_with_message(void **state) {
    (void)state;
    /* Run the default handler in a child process (this same program) and read its output. */
    char self[1024], cmd[1200];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) skip(); /* no /proc: not Linux */
    self[len] = 0;
    snprintf(cmd, sizeof cmd, "'%s' --abort-demo 2>&1; echo status=$?", self);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = {0};
    size_t n = fread(out, 1, sizeof out - 1, p);
    pclose(p);
    assert_true(n > 0);
    assert_non_null(strstr(out, "printed before the error"));
    assert_non_null(strstr(out, "nn error in nn_add"));
    assert_non_null(strstr(out, "test_errors.c:"));
    assert_null(strstr(out, "status=0"));
}

static void test_site_is_fresh_for_every_public_call(void **state) {
    (void)state;
    /* the last good op is on one line; the bad calls on later lines name their own lines */
    nn_tensor *x = nn_requires_grad(nn_ones(NN_SHAPE(2, 3)));
    nn_tensor *y = nn_relu(x);
    char want[64];
    int line = __LINE__ + 1;
    EXPECT_NN_ERROR(nn_backward(y), "nn_backward", "(2, 3)");
    snprintf(want, sizeof want, "test_errors.c:%d", line);
    assert_non_null(strstr(nn_test_message, want));
    line = __LINE__ + 1;
    EXPECT_NN_ERROR(nn_item(x), "nn_item");
    snprintf(want, sizeof want, "test_errors.c:%d", line);
    assert_non_null(strstr(nn_test_message, want));
    line = __LINE__ + 1;
    EXPECT_NN_ERROR(nn_zeros(NN_SHAPE(0)), "nn_zeros");
    snprintf(want, sizeof want, "test_errors.c:%d", line);
    assert_non_null(strstr(nn_test_message, want));
    nn_tensor_free(x);
}

static void test_sizes_that_overflow_are_refused(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_zeros(NN_SHAPE(65536, 65536, 65536, 65536)), "nn_zeros", "overflows");
    nn_tensor *t = nn_zeros(NN_SHAPE(2, 3));
    EXPECT_NN_ERROR(nn_reshape(t, NN_SHAPE(65536, 65536, 65536, -1)), "nn_reshape", "overflows");
    nn_model *m = nn_model_new();
    EXPECT_NN_ERROR(nn_model_param(m, "w", NN_SHAPE(1 << 30, 1 << 30, 4), true), "nn_model_param");
    nn_model_free(m);
    nn_tensor_free(t);
}

static void test_bad_hyperparameters_are_refused(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer_new(m, "fc", 2, 2, NN_INIT_HE);
    EXPECT_NN_ERROR(nn_sgd_new(m, -0.1f, 0.0f, 0.0f), "nn_sgd_new", "learning rate -0.1");
    EXPECT_NN_ERROR(nn_sgd_new(m, 0.1f, 1.5f, 0.0f), "nn_sgd_new", "momentum 1.5");
    EXPECT_NN_ERROR(nn_adam_new(m, NAN, 0.0f), "nn_adam_new", "learning rate");
    EXPECT_NN_ERROR(nn_adamw_new(m, 1e-3f, -1.0f), "weight decay -1");
    EXPECT_NN_ERROR(nn_clip_grad_norm(m, -1.0f), "nn_clip_grad_norm", "max_norm -1");
    nn_model_free(m);
}

static void test_null_arguments_are_reported(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_optim_step(NULL), "nn_optim_step", "is NULL");
    EXPECT_NN_ERROR(nn_model_zero_grad(NULL), "nn_model_zero_grad", "is NULL");
    EXPECT_NN_ERROR(nn_clip_grad_norm(NULL, 1.0f), "nn_clip_grad_norm", "is NULL");
    EXPECT_NN_ERROR(nn_fill(NULL, 1.0f), "nn_fill", "is NULL");
    EXPECT_NN_ERROR(nn_model_summary(NULL, stdout), "nn_model_summary", "is NULL");
    nn_tensor *a = nn_zeros(NN_SHAPE(2, 2));
    EXPECT_NN_ERROR(nn_copy_into(a, NULL), "nn_copy_into", "is NULL");
    EXPECT_NN_ERROR(nn_argmax_rows(a, NULL), "nn_argmax_rows", "is NULL");
    assert_false(nn_same_shape(a, NULL));
    nn_tensor_free(a);
}

static void test_linear_needs_a_batch_dimension(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l = nn_linear_layer_new(m, "fc", 3, 2, NN_INIT_HE);
    nn_tensor *v = nn_zeros(NN_SHAPE(3));
    EXPECT_NN_ERROR(nn_linear_layer_forward(l, v), "no batch dimension", "(1, in)");
    nn_tensor_free(v);
    nn_model_free(m);
}

/* Run this program again with `args`; return its exit status and output. */
static int run_self(const char *args, char *out, size_t size) {
    char self[1024], cmd[1300];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = 0;
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", self, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_bad_command_line_values_stop_with_a_message(void **state) {
    (void)state;
    char out[1024];
    assert_int_equal(run_self("--arg-demo --seed abc", out, sizeof out), 2);
    assert_non_null(strstr(out, "--seed"));
    assert_non_null(strstr(out, "abc"));
    assert_int_equal(run_self("--arg-demo --seed -1", out, sizeof out), 2);
    assert_int_equal(run_self("--arg-demo --steps 1.5", out, sizeof out), 2);
    assert_non_null(strstr(out, "--steps"));
    assert_int_equal(run_self("--arg-demo --lr x", out, sizeof out), 2);
    assert_int_equal(run_self("--arg-demo --seed 7 --steps 3 --lr 0.5", out, sizeof out), 0);
    assert_non_null(strstr(out, "seed 7 steps 3 lr 0.5"));
}

static int arg_demo(int argc, char **argv) {
    uint64_t seed = 1;
    int steps = 10;
    float lr = 0.1f;
    bool demo = false;
    nn_option opts[] = {
        NN_OPT_FLAG("--arg-demo", &demo, "run this demo"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 1, 1000, "steps"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 10, "learning rate"),
    };
    nn_parse_options(argc, argv, NULL, opts, NN_COUNTOF(opts));
    printf("seed %llu steps %d lr %g\n", (unsigned long long)seed, steps, lr);
    return 0;
}

static int abort_demo(void) {
    printf("printed before the error\n");
    nn_tensor *a = nn_zeros(NN_SHAPE(2)), *b = nn_zeros(NN_SHAPE(3));
    nn_add(a, b);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--abort-demo") == 0) return abort_demo();
    if (argc > 1 && strcmp(argv[1], "--arg-demo") == 0) return arg_demo(argc, argv);
    const struct CMUnitTest tests[] = {
        NN_TEST(test_messages_name_op_shapes_and_site), NN_TEST(test_shape_errors_of_many_ops),
        NN_TEST(test_label_errors),                     NN_TEST(test_layer_and_backward_errors),
        NN_TEST(test_returning_handler_gives_null),     NN_TEST(test_bad_input_errors_do_not_call_handler),
        NN_TEST(test_default_handler_aborts_with_message),
        NN_TEST(test_site_is_fresh_for_every_public_call),
        NN_TEST(test_sizes_that_overflow_are_refused),
        NN_TEST(test_bad_hyperparameters_are_refused),
        NN_TEST(test_null_arguments_are_reported),
        NN_TEST(test_linear_needs_a_batch_dimension),
        NN_TEST(test_bad_command_line_values_stop_with_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
