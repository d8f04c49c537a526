/* tests/test_quant.c — int8 / int4 quantization (nn/ops/quant.h): the error bounds, int4's
 * packing and tail groups, the int8 matmul against the float product and its fast kernels
 * against the reference (bit for bit), the NNQ1 checkpoint and its refusals, misuse. */
#include "scratch_dir.h"
#include <float.h>
#include <zlib.h>

/* Random weights in [-a, a], with a few rows scaled so that the scales differ. */
static float *random_weights(size_t rows, size_t cols, float a) {
    float *w = malloc(rows * cols * sizeof *w);
    assert_non_null(w);
    for (size_t r = 0; r < rows; r++) {
        float row_a = a * (1.0f + (float)(r % 3));
        for (size_t c = 0; c < cols; c++) w[r * cols + c] = row_a * (2 * nn_rng_uniform(nn_global_rng()) - 1);
    }
    return w;
}

/* |w - deq| <= s / 2 (plus one float rounding of w), and the row's largest |w| hits 127. */
static void test_int8_error_bound(void **state) {
    (void)state;
    enum { R = 7, C = 53 };
    float *w = random_weights(R, C, 0.3f), deq[R * C], s[R];
    int8_t q[R * C];
    w[5] = 0;   /* zero stays zero */
    assert_int_equal(nn_q8_quantize(w, R, C, q, s), 0);
    assert_int_equal(nn_q8_dequantize(q, s, R, C, deq), 0);
    for (int r = 0; r < R; r++) {
        float m = 0;
        int qmax = 0;
        for (int c = 0; c < C; c++) {
            m = fmaxf(m, fabsf(w[r * C + c]));
            qmax = abs(q[r * C + c]) > qmax ? abs(q[r * C + c]) : qmax;
            assert_true(q[r * C + c] >= -127 && q[r * C + c] <= 127);
            float err = fabsf(w[r * C + c] - deq[r * C + c]);
            if (!(err <= s[r] / 2 * (1 + 1e-5f) + 1e-7f * fabsf(w[r * C + c])))
                fail_msg("row %d col %d: error %g > scale/2 = %g", r, c, err, s[r] / 2);
        }
        assert_float_equal(s[r], m / 127, 1e-9);
        assert_int_equal(qmax, 127);
    }
    assert_true(deq[5] == 0.0f);
    /* a row of zeros: scale 0, every q 0, back to exact zeros */
    float z[4] = {0, 0, 0, 0}, zs;
    int8_t zq[4];
    assert_int_equal(nn_q8_quantize(z, 1, 4, zq, &zs), 0);
    assert_true(zs == 0 && zq[0] == 0 && zq[3] == 0);
    /* the largest floats: s * 127 must not round up to infinity (found by fuzz_quant) */
    float big[3] = {-FLT_MAX, 1, FLT_MAX / 3}, big4[3];
    memcpy(big4, big, sizeof big);
    assert_int_equal(nn_q8_roundtrip(big, 1, 3), 0);
    assert_int_equal(nn_q4_roundtrip(big4, 1, 3, 2), 0);
    assert_true(isfinite(big[0]) && isfinite(big4[0]) && big[0] < -0.999f * FLT_MAX);
    assert_true(fabsf(big4[2] - FLT_MAX / 3) <= FLT_MAX / 3 / 7 / 2 * 1.001f);
    /* round trip in place = quantize then dequantize */
    float *copy = malloc(sizeof deq);
    memcpy(copy, w, sizeof deq);
    assert_int_equal(nn_q8_roundtrip(copy, R, C), 0);
    assert_memory_equal(copy, deq, sizeof deq);
    free(copy);
    free(w);
}

/* int4 groups: the scale of each group, the shorter tail group, the bound s / 2. */
static void test_int4_groups_and_tail(void **state) {
    (void)state;
    const int groups_to_try[] = {1, 4, 7, 32, 64};
    for (size_t gi = 0; gi < sizeof groups_to_try / sizeof *groups_to_try; gi++) {
        int G = groups_to_try[gi];
        enum { R = 5, C = 45 };   /* 45 = 32 + 13: a tail group for G = 32, one short group for 64 */
        size_t ng = nn_q4_groups(C, G);
        assert_int_equal(ng, (C + G - 1) / G);
        float *w = random_weights(R, C, 1.0f), deq[R * C];
        float *s = malloc(R * ng * sizeof *s);
        uint8_t packed[R * ((C + 1) / 2)];
        assert_int_equal(nn_q4_packed_bytes(R, C), sizeof packed);
        assert_int_equal(nn_q4_quantize(w, R, C, G, packed, s), 0);
        assert_int_equal(nn_q4_dequantize(packed, s, R, C, G, deq), 0);
        for (int r = 0; r < R; r++)
            for (size_t g = 0; g < ng; g++) {
                size_t c0 = g * G, c1 = c0 + G < C ? c0 + G : C;
                float m = 0;
                for (size_t c = c0; c < c1; c++) m = fmaxf(m, fabsf(w[r * C + c]));
                float sg = s[r * ng + g];
                assert_float_equal(sg, m / 7, 1e-7);
                for (size_t c = c0; c < c1; c++) {
                    float err = fabsf(w[r * C + c] - deq[r * C + c]);
                    if (!(err <= sg / 2 * (1 + 1e-5f) + 1e-7f))
                        fail_msg("G %d row %d col %zu: error %g > %g", G, r, c, err, sg / 2);
                    float q = deq[r * C + c] / sg;   /* an integer in [-7, 7] */
                    assert_true(fabsf(q - roundf(q)) < 1e-4f && fabsf(q) <= 7.0001f);
                }
            }
        float *again = malloc(sizeof deq);
        memcpy(again, w, sizeof deq);
        assert_int_equal(nn_q4_roundtrip(again, R, C, G), 0);
        assert_memory_equal(again, deq, sizeof deq);
        free(again), free(s), free(w);
    }
}

/* Two values per byte: the even column low, the odd one high, each q + 8; rows start on a
 * byte, and an odd row's last high nibble is 0. */
static void test_int4_packing(void **state) {
    (void)state;
    /* one group per row, max 7 so that the scale is 1 and q = w */
    const float w[2 * 3] = {7, -7, 3, -1, 0, 7};
    uint8_t p[2 * 2];
    float s[2];
    assert_int_equal(nn_q4_quantize(w, 2, 3, 8, p, s), 0);
    assert_true(s[0] == 1.0f && s[1] == 1.0f);
    assert_int_equal(p[0], (uint8_t)((7 + 8) | (-7 + 8) << 4));   /* 0x1f */
    assert_int_equal(p[1], 3 + 8);                                /* high nibble unused */
    assert_int_equal(p[2], (uint8_t)((-1 + 8) | (0 + 8) << 4));   /* 0x87 */
    assert_int_equal(p[3], 7 + 8);
    /* rounding: to the nearest, ties to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2) */
    const float h[6] = {7, 2.5f, -2.5f, 0.49f, 3.5f, -6.5f};
    uint8_t ph[3];
    assert_int_equal(nn_q4_quantize(h, 1, 6, 8, ph, s), 0);
    assert_int_equal(ph[0] >> 4, 2 + 8);
    assert_int_equal(ph[1] & 15, -2 + 8);
    assert_int_equal(ph[1] >> 4, 0 + 8);
    assert_int_equal(ph[2] & 15, 4 + 8);
    assert_int_equal(ph[2] >> 4, -6 + 8);
}

/* The float product x W^T + b that the int8 one approximates, in double. */
static void float_product(const float *x, int M, const float *w, int N, int K, const float *b,
                          double *y) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = b ? b[n] : 0;
            for (int k = 0; k < K; k++) s += (double)x[m * K + k] * w[n * K + k];
            y[m * N + n] = s;
        }
}

/* Within the bound of nn/ops/quant.h: sum_k |x| sw/2 + |w| sx/2 + sx sw/4. */
static void test_int8_matmul_vs_float(void **state) {
    (void)state;
    enum { M = 6, N = 9, K = 70 };
    float *x = random_weights(M, K, 1.0f), *w = random_weights(N, K, 0.1f), b[N], y[M * N];
    for (int n = 0; n < N; n++) b[n] = 0.1f * n - 0.4f;
    double want[M * N];
    float_product(x, M, w, N, K, b, want);
    nn_q8_weights *q = nn_q8_weights_new(w, N, K);
    assert_non_null(q);
    nn_q8_kernel prev = nn_set_q8_kernel(NN_Q8_REFERENCE);
    assert_int_equal(nn_q8_matmul(x, M, q, b, y), 0);
    nn_set_q8_kernel(prev);
    double worst = 0;
    for (int m = 0; m < M; m++) {
        float sx = 0;
        for (int k = 0; k < K; k++) sx = fmaxf(sx, fabsf(x[m * K + k]));
        sx /= 127;
        for (int n = 0; n < N; n++) {
            double bound = 1e-5;
            for (int k = 0; k < K; k++)
                bound += fabsf(x[m * K + k]) * q->scale[n] / 2 + fabsf(w[n * K + k]) * sx / 2 +
                         sx * q->scale[n] / 4;
            double err = fabs(y[m * N + n] - want[m * N + n]);
            if (!(err <= bound)) fail_msg("y[%d, %d]: error %g > bound %g", m, n, err, bound);
            worst = fmax(worst, err / bound);
        }
    }
    assert_true(worst < 0.5);   /* errors partly cancel: far below the worst case */
    nn_q8_weights_free(q);
    free(x), free(w);
}

/* Each fast kernel this CPU has gives the reference's numbers exactly, on shapes with
 * tails in K (not a multiple of 16 or 64) and in N (not a multiple of 4). */
static void test_int8_kernels_bit_exact(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1}, {3, 5, 17}, {4, 8, 64}, {5, 7, 100}, {2, 13, 129},
                             {33, 70, 784}};
    const nn_q8_kernel fast[] = {NN_Q8_AVX2, NN_Q8_VNNI};
    int tested = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *x = random_weights(M, K, 2.0f), *w = random_weights(N, K, 0.5f);
        float *ref = malloc((size_t)M * N * sizeof *ref), *got = malloc((size_t)M * N * sizeof *got);
        nn_q8_weights *q = nn_q8_weights_new(w, N, K);
        nn_q8_kernel prev = nn_set_q8_kernel(NN_Q8_REFERENCE);
        assert_int_equal(nn_q8_kernel_in_use(), NN_Q8_REFERENCE);
        assert_int_equal(nn_q8_matmul(x, M, q, NULL, ref), 0);
        for (size_t f = 0; f < 2; f++) {
            if (!nn_q8_kernel_available(fast[f])) continue;
            nn_set_q8_kernel(fast[f]);
            memset(got, 0xff, (size_t)M * N * sizeof *got);
            assert_int_equal(nn_q8_matmul(x, M, q, NULL, got), 0);
            if (memcmp(got, ref, (size_t)M * N * sizeof *got) != 0)
                fail_msg("%s differs from the reference at %d x %d x %d",
                         nn_q8_kernel_name(fast[f]), M, N, K);
            tested++;
        }
        nn_set_q8_kernel(prev);
        nn_q8_weights_free(q);
        free(x), free(w), free(ref), free(got);
    }
    print_message("fast int8 kernels checked: %d (auto picks %s)\n", tested,
                  nn_q8_kernel_name(nn_q8_kernel_in_use()));
}

/* The layer view: from a linear layer's (in, out) W, on a (B, T, in) tensor, equal to
 * nn_q8_matmul with W^T, and close to nn_linear_layer_forward. */
static void test_int8_linear_forward(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l = nn_linear_layer_new(m, "fc", 12, 5, NN_INIT_XAVIER);
    for (int o = 0; o < 5; o++) l->b->data[o] = 0.25f * o;
    nn_tensor *x = nn_rand_uniform(-1, 1, NN_SHAPE(2, 3, 12));
    nn_q8_weights *q = nn_q8_weights_from_linear(l);
    assert_int_equal(q->n, 5);
    assert_int_equal(q->k, 12);
    nn_tensor *y = nn_q8_linear_forward(q, l->b, x);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[2], 5);
    assert_false(y->requires_grad);
    nn_tensor *want = nn_linear_layer_forward(l, x);
    assert_floats_near(y->data, want->data, y->size, 0.03f);
    nn_q8_weights_free(q);
    nn_tensor_free(x);
    nn_model_free(m);
}

/* A small model of every kind of parameter: linear (2-D), convolution (4-D), LayerNorm and
 * biases (1-D, kept in float32). */
static nn_model *small_model(void) {
    nn_model *m = nn_model_new();
    nn_conv2d_layer_new(m, "conv", 2, 3, 3, 1, 1, NN_INIT_HE);
    nn_linear_layer_new(m, "fc1", 37, 10, NN_INIT_XAVIER);
    nn_layer_norm_layer_new(m, "ln", 10);
    nn_linear_layer_new(m, "fc2", 10, 3, NN_INIT_XAVIER);
    for (int p = 0; p < m->nparams; p++)
        if (!m->decay[p])
            for (size_t i = 0; i < m->params[p]->size; i++)
                m->params[p]->data[i] = 0.1f * (float)i - 0.3f;   /* not all zeros */
    return m;
}

/* Save, load into a fresh model: each value equals nn_quant_roundtrip_param's, biases and
 * norms exactly the originals; the file is smaller than NNCK's. */
static void test_checkpoint_round_trip(void **state) {
    (void)state;
    const int bits[] = {8, 4, 4}, group[] = {0, 32, 4};
    for (int v = 0; v < 3; v++) {
        nn_seed(7);
        nn_model *a = small_model();
        nn_seed(99);
        nn_model *b = small_model();   /* other values, same names and shapes */
        const char *path = in_dir("m.nnq");
        assert_int_equal(nn_model_save_quantized(a, path, bits[v], group[v]), 0);
        assert_true(no_temp_left(path));
        assert_int_equal(nn_model_load_quantized(b, path), 0);
        nn_seed(7);
        nn_model *want = small_model();   /* a's values again */
        int quantized = 0;
        for (int p = 0; p < want->nparams; p++) {
            int r = nn_quant_roundtrip_param(want, p, bits[v], group[v]);
            assert_true(r == 0 || r == 1);
            quantized += r;
        }
        assert_int_equal(quantized, 3);   /* conv.W, fc1.W, fc2.W */
        assert_memory_equal(b->data, want->data, want->count * sizeof(float));
        for (int p = 0; p < a->nparams; p++)
            if (!a->decay[p])
                assert_memory_equal(b->params[p]->data, a->params[p]->data,
                                    a->params[p]->size * sizeof(float));
        size_t qlen, flen;
        free(slurp(path, &qlen));
        assert_int_equal(nn_model_save(a, in_dir("m.nnck")), 0);
        free(slurp(in_dir("m.nnck"), &flen));
        assert_true(qlen < flen);
        nn_model_free(a), nn_model_free(b), nn_model_free(want);
    }
}

/* Every cut and every flipped byte is refused with a message, and the model is untouched. */
static void test_checkpoint_corrupt_refused(void **state) {
    (void)state;
    nn_model *a = small_model(), *b = small_model();
    const char *path = in_dir("m.nnq"), *bad = in_dir("bad.nnq");
    assert_int_equal(nn_model_save_quantized(a, path, 4, 8), 0);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    for (size_t i = 0; i < b->count; i++) b->data[i] = 42;
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
        spit(bad, bytes, cut);
        assert_int_equal(nn_model_load_quantized(b, bad), -1);
        assert_true(strstr(nn_last_error(), "bad.nnq") != NULL);
    }
    for (size_t i = 0; i < len; i += (i < 64 ? 1 : 29)) {
        bytes[i] ^= 0x10;
        spit(bad, bytes, len);
        assert_int_equal(nn_model_load_quantized(b, bad), -1);
        bytes[i] ^= 0x10;
    }
    spit(bad, bytes, len - 1);
    assert_int_equal(nn_model_load_quantized(b, bad), -1);
    EXPECT_LAST_ERROR("checksum mismatch");
    for (size_t i = 0; i < b->count; i++) assert_true(b->data[i] == 42);   /* untouched */
    /* an NNCK file, junk, and a file too large for this model */
    assert_int_equal(nn_model_save(a, bad), 0);
    assert_int_equal(nn_model_load_quantized(b, bad), -1);
    EXPECT_LAST_ERROR("float32 checkpoint (NNCK)", "nn_model_load");
    spit(bad, "hello, world", 12);
    assert_int_equal(nn_model_load_quantized(b, bad), -1);
    EXPECT_LAST_ERROR("not a quantized checkpoint");
    unsigned char *big = calloc(1, 1 << 20);
    memcpy(big, "NNQ1", 4);
    spit(bad, big, 1 << 20);
    free(big);
    assert_int_equal(nn_model_load_quantized(b, bad), -1);
    EXPECT_LAST_ERROR("bad.nnq");
    free(bytes);
    nn_model_free(a), nn_model_free(b);
}

/* A CRC-correct file whose contents are wrong: a model of another shape, or bad values. */
static void fix_crc(unsigned char *b, size_t len) {
    uint32_t crc = (uint32_t)crc32(0, b, (uInt)(len - 4));
    for (int k = 0; k < 4; k++) b[len - 4 + k] = (unsigned char)(crc >> 8 * k);
}

static void test_checkpoint_mismatch_and_bad_values(void **state) {
    (void)state;
    nn_model *a = small_model();
    const char *path = in_dir("m.nnq"), *bad = in_dir("bad.nnq");
    assert_int_equal(nn_model_save_quantized(a, path, 8, 0), 0);
    /* another architecture: fc1 with 11 outputs */
    nn_model *other = nn_model_new();
    nn_conv2d_layer_new(other, "conv", 2, 3, 3, 1, 1, NN_INIT_HE);
    nn_linear_layer_new(other, "fc1", 37, 11, NN_INIT_XAVIER);
    nn_layer_norm_layer_new(other, "ln", 11);
    nn_linear_layer_new(other, "fc2", 11, 3, NN_INIT_XAVIER);
    assert_int_equal(nn_model_load_quantized(other, path), -1);
    EXPECT_LAST_ERROR("does not fit this model", "fc1.W", "(37, 11)");
    nn_model *fewer = nn_model_new();
    nn_linear_layer_new(fewer, "fc1", 37, 10, NN_INIT_XAVIER);
    assert_int_equal(nn_model_load_quantized(fewer, path), -1);
    EXPECT_LAST_ERROR("holds 8 parameters, the model has 2");
    /* an int8 value of -128, behind a valid CRC: the last byte of fc2.W's values is the
     * byte before fc2.b's record; find fc2.W's values from the end instead: fc2.b is
     * 4 + 4 + 1 + 4 + 4 + 4 * 3 bytes plus the CRC. */
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    size_t tail = 4 + (4 + 5 + 4 + 4 + 4 + 12);
    bytes[len - tail - 1] = 0x80;
    fix_crc(bytes, len);
    spit(bad, bytes, len);
    nn_model *b = small_model();
    assert_int_equal(nn_model_load_quantized(b, bad), -1);
    EXPECT_LAST_ERROR("fc2.W", "-128");
    free(bytes);
    nn_model_free(a), nn_model_free(b), nn_model_free(other), nn_model_free(fewer);
}

static void test_misuse(void **state) {
    (void)state;
    float w[4] = {1, 2, 3, 4}, s[4];
    int8_t q[4];
    uint8_t p[2];
    EXPECT_NN_ERROR(nn_q8_quantize(NULL, 1, 4, q, s), "nn_q8_quantize", "NULL");
    EXPECT_NN_ERROR(nn_q8_quantize(w, 0, 4, q, s), "nn_q8_quantize", "rows = 0");
    EXPECT_NN_ERROR(nn_q4_quantize(w, 1, 4, 0, p, s), "nn_q4_quantize", "group = 0");
    EXPECT_NN_ERROR(nn_q4_roundtrip(w, 2, 2, -3), "nn_q4_roundtrip", "group = -3");
    EXPECT_NN_ERROR(nn_q4_roundtrip(NULL, 2, 2, 32), "nn_q4_roundtrip", "NULL");
    w[2] = NAN;
    EXPECT_NN_ERROR(nn_q8_roundtrip(w, 2, 2), "nn_q8_roundtrip", "row 1", "not finite");
    EXPECT_NN_ERROR(nn_q4_roundtrip(w, 1, 4, 2), "not finite");
    w[2] = 3;
    EXPECT_NN_ERROR(nn_q8_weights_new(w, 0, 4), "nn_q8_weights_new");
    EXPECT_NN_ERROR(nn_q8_weights_new(w, 1, NN_Q8_MAX_K + 1), "k = 65537", "overflow");
    EXPECT_NN_ERROR(nn_set_q8_kernel((nn_q8_kernel)99), "nn_set_q8_kernel", "not available");
    assert_int_equal(nn_set_q8_kernel(NN_Q8_AUTO), NN_Q8_AUTO);   /* the setting stayed */
    nn_q8_weights *qw = nn_q8_weights_new(w, 2, 2);
    nn_tensor *x = nn_zeros(NN_SHAPE(3, 5));
    EXPECT_NN_ERROR(nn_q8_linear_forward(qw, NULL, x), "nn_q8_linear_forward", "(3, 5)");
    EXPECT_NN_ERROR(nn_q8_matmul(w, 0, qw, NULL, s), "nn_q8_matmul", "m = 0");
    float xs[4] = {1, 2, INFINITY, 0};
    EXPECT_NN_ERROR(nn_q8_matmul(xs, 2, qw, NULL, s), "nn_q8_matmul", "row 1", "not finite");
    nn_q8_weights_free(qw);
    nn_tensor_free(x);
    if (!nn_q8_kernel_available(NN_Q8_VNNI))
        EXPECT_NN_ERROR(nn_set_q8_kernel(NN_Q8_VNNI), "nn_set_q8_kernel", "avx512-vnni");
    nn_model *m = small_model();
    EXPECT_NN_ERROR(nn_model_save_quantized(m, in_dir("x"), 5, 0), "bits = 5");
    EXPECT_NN_ERROR(nn_model_save_quantized(m, in_dir("x"), 4, 0), "group = 0");
    EXPECT_NN_ERROR(nn_quant_roundtrip_param(m, 99, 8, 0), "parameter 99");
    assert_false(file_exists(in_dir("x")));
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_int8_error_bound),
        NN_TEST(test_int4_groups_and_tail),
        NN_TEST(test_int4_packing),
        NN_TEST(test_int8_matmul_vs_float),
        NN_TEST(test_int8_kernels_bit_exact),
        NN_TEST(test_int8_linear_forward),
        IO_TEST(test_checkpoint_round_trip),
        IO_TEST(test_checkpoint_corrupt_refused),
        IO_TEST(test_checkpoint_mismatch_and_bad_values),
        IO_TEST(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
