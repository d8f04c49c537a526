/* tests/testing.h — shared helpers for the cmocka tests. */
#ifndef NN_TESTING_H
#define NN_TESTING_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include <nn.h>

/* OpenMP's team size for what follows: threads > 0 sets it, 0 keeps the default; returns the
 * size before, for test_restore_threads. Without OpenMP both do nothing. */
#ifdef _OPENMP
#include <omp.h>
#endif
__attribute__((unused)) static int test_set_threads(int threads) {
#ifdef _OPENMP
    int was = omp_get_max_threads();
    if (threads > 0) omp_set_num_threads(threads);
    return was;
#else
    (void)threads;
    return 1;
#endif
}
__attribute__((unused)) static void test_restore_threads(int was) {
#ifdef _OPENMP
    omp_set_num_threads(was);
#else
    (void)was;
#endif
}

/* Catching misuse errors: the handler copies the message and jumps back to the test. */
static jmp_buf nn_test_jump;
static char nn_test_message[2048];
static int nn_test_caught;

__attribute__((unused)) static void nn_test_handler(const nn_error *err, void *user) {
    (void)user;
    snprintf(nn_test_message, sizeof nn_test_message, "%s", err->message);
    nn_test_caught = 1;
    longjmp(nn_test_jump, 1);
}

/* Run `stmt`, which must report a misuse error whose message contains every given string.
 * The graph is cleared afterwards (an op that failed half way may have left tensors). */
#define EXPECT_NN_ERROR(stmt, ...)                                                      \
    do {                                                                                \
        nn_test_caught = 0;                                                             \
        nn_test_message[0] = 0;                                                         \
        nn_error_handler prev_handler = nn_set_error_handler(nn_test_handler, NULL);   \
        if (setjmp(nn_test_jump) == 0) {                                                \
            stmt;                                                                       \
        }                                                                               \
        nn_set_error_handler(prev_handler, NULL);                                       \
        nn_graph_clear();                                                               \
        assert_true(nn_test_caught);                                                    \
        const char *want_[] = {__VA_ARGS__};                                            \
        for (size_t k_ = 0; k_ < sizeof want_ / sizeof want_[0]; k_++) {                \
            if (!strstr(nn_test_message, want_[k_]))                                    \
                fail_msg("error message lacks \"%s\":\n%s", want_[k_], nn_test_message); \
        }                                                                               \
    } while (0)

/* A bad-input error (kind 2): nn_last_error() must contain every given string. */
#define EXPECT_LAST_ERROR(...)                                                         \
    do {                                                                               \
        const char *want_[] = {__VA_ARGS__};                                           \
        for (size_t k_ = 0; k_ < sizeof want_ / sizeof want_[0]; k_++)                 \
            if (!strstr(nn_last_error(), want_[k_]))                                   \
                fail_msg("last error lacks \"%s\":\n%s", want_[k_], nn_last_error());  \
    } while (0)

/* Everything written so far to a stream (e.g. a tmpfile()), as a string; the caller frees it.
 * (tmpfile rather than open_memstream: GCC warns, wrongly, that a memstream keeps the address
 * of a local after return.) */
__attribute__((unused)) static char *stream_text(FILE *f) {
    long len = ftell(f);
    assert_true(len >= 0);
    char *text = malloc((size_t)len + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = 0;
    return text;
}

/* Compare two float arrays elementwise within an absolute tolerance. */
static inline void assert_floats_near(const float *got, const float *want, size_t n, float tol) {
    for (size_t i = 0; i < n; i++) {
        if (!(fabsf(got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.7g, want %.7g (tol %g)", i, got[i], want[i], tol);
    }
}

/* Each test starts from a clean graph, default modes and a fixed seed. */
static inline int nn_test_setup(void **state) {
    (void)state;
    nn_graph_clear();
    nn_set_grad_enabled(true);
    nn_set_training(true);
    nn_seed(1234);
    return 0;
}
static inline int nn_test_teardown(void **state) {
    (void)state;
    nn_graph_release();
    return 0;
}
#define NN_TEST(f) cmocka_unit_test_setup_teardown(f, nn_test_setup, nn_test_teardown)

#endif
