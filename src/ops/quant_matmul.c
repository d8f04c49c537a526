/* src/ops/quant_matmul.c — y = x W^T + bias with int8 weights and int8 activations
 * (formulas in include/nn/ops/quant.h).
 *
 * Three steps: quantize each row of x (one scale per row, measured now), take the integer
 * dot products of those rows with W's rows in int32, and scale each sum back to a float:
 *   y_mn = sx_m * sw_n * acc_mn + bias_n.
 * Only the middle step is hot (M N K multiply-adds), so only it has fast versions; all
 * three versions compute the same exact integers, and the first and last steps are shared,
 * which is why the outputs agree to the bit.
 *
 * Why int8 can be faster than float on the same CPU: a 256-bit register holds 8 floats but
 * 32 int8 values, and the weights take a quarter of the memory traffic. AVX2 has no
 * signed int8 x int8 multiply-add; its kernel uses _mm256_maddubs_epi16 (unsigned x signed
 * bytes, 32 products added in pairs into int16) on |x| and w carrying x's sign (dot32).
 * AVX-512 VNNI's _mm512_dpbusd_epi32 does 64 products and their sums in groups of four in
 * one instruction, but it multiplies UNSIGNED bytes by signed ones. So the kernel feeds it
 * ux = qx + 128 (0 .. 255; in bits: qx XOR 0x80) and takes the extra part back out:
 *   sum_k (qx_k + 128) qw_k = sum_k qx_k qw_k + 128 * sum_k qw_k
 * where sum_k qw_k is the weight row's sum, computed once when W is quantized (row_sum).
 * (Newer CPUs have a signed-by-signed VPDPBSSD (AVX-VNNI-INT8); the offset trick works on
 * every AVX-512 VNNI CPU since 2019 and is what oneDNN and FBGEMM do.)
 */
#include "internal.h"
#include "nn/ops/quant.h"
#include "quant_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NN_Q8_X86 1
#endif

#define PARALLEL_MIN_OPS (1L << 24)   /* multiply-adds; fewer: threads cost more than they save
                                        (the float kernels' threshold, src/core/kernels.c) */

/* ---- the weights --------------------------------------------------------------------------- */

nn_q8_weights *nn_q8_weights_new(const float *w, int n, int k) {
    NN_REQUIRE(w, "nn_q8_weights_new");
    if (n < 1 || k < 1 || k > NN_Q8_MAX_K) {
        nn_fail("nn_q8_weights_new", "W is (N outputs, K inputs): N >= 1, 1 <= K <= 65536 (so "
                "that the int32 sums cannot overflow)", "n = %d, k = %d", n, k);
        return NULL;
    }
    if (nn_quant_check_finite("nn_q8_weights_new", w, (size_t)n, (size_t)k) != 0) return NULL;
    nn_q8_weights *q = nn_xcalloc(1, sizeof *q);
    q->n = n, q->k = k;
    q->q = nn_xmalloc((size_t)n * k);
    q->scale = nn_xmalloc((size_t)n * sizeof *q->scale);
    q->row_sum = nn_xmalloc((size_t)n * sizeof *q->row_sum);
    if (nn_q8_quantize_op("nn_q8_weights_new", w, (size_t)n, (size_t)k, q->q, q->scale) != 0) {
        nn_q8_weights_free(q);
        return NULL;
    }
    for (int r = 0; r < n; r++) {
        int32_t s = 0;
        for (int c = 0; c < k; c++) s += q->q[(size_t)r * k + c];
        q->row_sum[r] = s;
    }
    return q;
}

/* A linear layer's W is (in, out) (Y = X W); the kernel wants one row per output, W^T. */
nn_q8_weights *nn_q8_weights_from_linear(const nn_linear_layer *layer) {
    NN_REQUIRE(layer, "nn_q8_weights_from_linear");
    int in = layer->in, out = layer->out;
    if (in > NN_Q8_MAX_K) {   /* checked here too, before anything is allocated */
        nn_fail("nn_q8_weights_from_linear", "at most 65536 inputs (so that the int32 sums "
                "cannot overflow)", "the layer has %d inputs", in);
        return NULL;
    }
    if (nn_quant_check_finite("nn_q8_weights_from_linear", layer->W->data, (size_t)in,
                              (size_t)out) != 0)
        return NULL;
    float *wt = nn_xmalloc((size_t)in * out * sizeof *wt);
    for (int i = 0; i < in; i++)
        for (int o = 0; o < out; o++) wt[(size_t)o * in + i] = layer->W->data[(size_t)i * out + o];
    nn_q8_weights *q = nn_q8_weights_new(wt, out, in);
    free(wt);
    return q;
}

void nn_q8_weights_free(nn_q8_weights *w) {
    if (!w) return;
    free(w->q), free(w->scale), free(w->row_sum), free(w);
}

/* ---- the integer dot products: acc (M, N) = qx (M, K) qw^T, qw (N, K) --------------------- */

/* The reference: one product at a time. Read this one first. */
static void dots_reference(const int8_t *qx, int M, const nn_q8_weights *w, int32_t *acc) {
    int N = w->n, K = w->k;
#pragma omp parallel for schedule(static) if ((long)M * N * K > PARALLEL_MIN_OPS)
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const int8_t *x = qx + (size_t)m * K, *wr = w->q + (size_t)n * K;
            int32_t s = 0;
            for (int k = 0; k < K; k++) s += (int32_t)x[k] * wr[k];
            acc[(size_t)m * N + n] = s;
        }
}

#if NN_Q8_X86
/* The sums of the 8 int32 lanes of each of a, b, c, d: [sum a, sum b, sum c, sum d].
 * hadd adds neighbours, so three of them and one add of the halves do the four sums. */
__attribute__((target("avx2"))) static inline __m128i hsum8x4(__m256i a, __m256i b, __m256i c,
                                                              __m256i d) {
    __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* 32 products x_k w_k of signed bytes, summed in eights into 8 int32, added to acc.
 * _mm256_maddubs_epi16 multiplies UNSIGNED by signed bytes and adds neighbours into int16,
 * saturating. So feed it |x| (0 .. 127) and w with x's sign (_mm256_sign_epi8: w, -w or 0):
 * |x| * sign(x) w = x w, and a pair sums to at most 2 * 127 * 127 = 32258 < 32767, so it
 * never saturates. _mm256_madd_epi16 with ones then adds the int16 pairs into int32. */
__attribute__((target("avx2"))) static inline __m256i dot32(__m256i acc, __m256i ax, __m256i x,
                                                           __m256i w) {
    __m256i pairs = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w, x));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

/* AVX2: 32 inputs per step; four weight rows at a time share each piece of x. One row of x
 * per call: the loop over rows (and its OpenMP threads) is in dots_by_rows, outside the
 * target("avx2") function, because clang's OpenMP outlines a parallel loop's body into a new
 * function that would not inherit the target attribute. */
__attribute__((target("avx2"))) static void row_avx2(const int8_t *x, const nn_q8_weights *w,
                                                     int32_t *acc_row) {
    int N = w->n, K = w->k, K32 = K / 32 * 32;
    for (int n = 0; n < N; n += 4) {
        int rows = N - n < 4 ? N - n : 4;
        const int8_t *wr[4];
        for (int r = 0; r < 4; r++) wr[r] = w->q + (size_t)(n + (r < rows ? r : 0)) * K;
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < K32; k += 32) {
#define LOAD(p) _mm256_loadu_si256((const __m256i *)((p) + k))
            __m256i xv = LOAD(x), ax = _mm256_abs_epi8(xv);
            s0 = dot32(s0, ax, xv, LOAD(wr[0]));
            s1 = dot32(s1, ax, xv, LOAD(wr[1]));   /* rows past N repeat row n: */
            s2 = dot32(s2, ax, xv, LOAD(wr[2]));   /* computed, never stored */
            s3 = dot32(s3, ax, xv, LOAD(wr[3]));
#undef LOAD
        }
        int32_t t[4];
        _mm_storeu_si128((__m128i *)t, hsum8x4(s0, s1, s2, s3));
        for (int r = 0; r < rows; r++) {
            for (int k = K32; k < K; k++) t[r] += x[k] * wr[r][k];   /* the last K % 32 */
            acc_row[n + r] = t[r];
        }
    }
}

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

/* AVX-512 VNNI: 64 inputs per step, four weight rows at a time; the last K % 64 inputs by
 * a masked load (masked lanes read as 0 in both x and w, so they add 0 even after x's +128).
 * One row of x per call, like row_avx2. */
VNNI_TARGET static void row_vnni(const int8_t *x, const nn_q8_weights *w, int32_t *acc_row) {
    int N = w->n, K = w->k;
    const __m512i flip = _mm512_set1_epi8((char)0x80);   /* qx XOR 0x80 = qx + 128, unsigned */
    __mmask64 tail = K % 64 ? ((__mmask64)1 << (K % 64)) - 1 : ~(__mmask64)0;
    for (int n = 0; n < N; n += 4) {
        int rows = N - n < 4 ? N - n : 4;
        __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(),
                        _mm512_setzero_si512(), _mm512_setzero_si512()};
        for (int k = 0; k < K; k += 64) {
            __mmask64 mk = K - k >= 64 ? ~(__mmask64)0 : tail;
            __m512i ux = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mk, x + k), flip);
            for (int r = 0; r < rows; r++) {
                __m512i wv = _mm512_maskz_loadu_epi8(mk, w->q + (size_t)(n + r) * K + k);
                s[r] = _mm512_dpbusd_epi32(s[r], ux, wv);   // 64 u8*s8, by 4 -> 16 int32
            }
        }
        for (int r = 0; r < rows; r++)   /* take the +128 back out */
            acc_row[n + r] = _mm512_reduce_add_epi32(s[r]) - 128 * w->row_sum[n + r];
    }
}

/* acc (M, N): one row of x at a time through `row`, the rows shared among the threads. */
static void dots_by_rows(void (*row)(const int8_t *, const nn_q8_weights *, int32_t *),
                         const int8_t *qx, int M, const nn_q8_weights *w, int32_t *acc) {
    int N = w->n, K = w->k;
#pragma omp parallel for schedule(static) if ((long)M * N * K > PARALLEL_MIN_OPS)
    for (int m = 0; m < M; m++) row(qx + (size_t)m * K, w, acc + (size_t)m * N);
}
#endif

/* ---- which kernel ---------------------------------------------------------------------------- */

static nn_q8_kernel q8_choice = NN_Q8_AUTO;

bool nn_q8_kernel_available(nn_q8_kernel k) {
    switch (k) {
    case NN_Q8_AUTO:
    case NN_Q8_REFERENCE: return true;
#if NN_Q8_X86
    case NN_Q8_AVX2: return __builtin_cpu_supports("avx2");
    case NN_Q8_VNNI:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    default: return false;
    }
}

const char *nn_q8_kernel_name(nn_q8_kernel k) {
    switch (k) {
    case NN_Q8_AUTO: return "auto";
    case NN_Q8_REFERENCE: return "reference";
    case NN_Q8_AVX2: return "avx2";
    case NN_Q8_VNNI: return "avx512-vnni";
    }
    return "unknown";
}

nn_q8_kernel nn_set_q8_kernel(nn_q8_kernel k) {
    nn_q8_kernel prev = q8_choice;
    if ((unsigned)k > NN_Q8_VNNI || !nn_q8_kernel_available(k)) {
        nn_fail("nn_set_q8_kernel", "ask nn_q8_kernel_available first; NN_Q8_AUTO always works",
                "kernel %d (%s) is not available on this CPU", (int)k, nn_q8_kernel_name(k));
        return prev;
    }
    q8_choice = k;
    return prev;
}

nn_q8_kernel nn_q8_kernel_in_use(void) {
    if (q8_choice != NN_Q8_AUTO) return q8_choice;
    if (nn_q8_kernel_available(NN_Q8_VNNI)) return NN_Q8_VNNI;
    if (nn_q8_kernel_available(NN_Q8_AVX2)) return NN_Q8_AVX2;
    return NN_Q8_REFERENCE;
}

/* ---- the whole product ------------------------------------------------------------------------ */

int nn_q8_matmul(const float *x, int m, const nn_q8_weights *w, const float *bias, float *y) {
    const char *op = "nn_q8_matmul";
    NN_REQUIRE_OR(x, op, -1);
    NN_REQUIRE_OR(w, op, -1);
    NN_REQUIRE_OR(y, op, -1);
    if (m < 1) {
        nn_fail(op, "x is (M, K) with at least one row", "m = %d", m);
        return -1;
    }
    int N = w->n, K = w->k;
    if (nn_quant_check_finite(op, x, (size_t)m, (size_t)K) != 0) return -1;
    // 1. x (M, K) -> qx (M, K), sx (M): dynamic, per row
    int8_t *qx = nn_xmalloc((size_t)m * K);
    float *sx = nn_xmalloc((size_t)m * sizeof *sx);
    int32_t *acc = nn_xmalloc((size_t)m * N * sizeof *acc);
    int rc = nn_q8_quantize_op(op, x, (size_t)m, (size_t)K, qx, sx);
    if (rc == 0) {
        // 2. acc (M, N) = qx qw^T, exact in int32
        switch (nn_q8_kernel_in_use()) {
#if NN_Q8_X86
        case NN_Q8_VNNI: dots_by_rows(row_vnni, qx, m, w, acc); break;
        case NN_Q8_AVX2: dots_by_rows(row_avx2, qx, m, w, acc); break;
#endif
        default: dots_reference(qx, m, w, acc); break;
        }
        // 3. y_mn = sx_m sw_n acc_mn + bias_n
        for (int i = 0; i < m; i++)
            for (int n = 0; n < N; n++) {
                float v = sx[i] * w->scale[n] * (float)acc[(size_t)i * N + n];
                y[(size_t)i * N + n] = bias ? v + bias[n] : v;
            }
    }
    free(qx), free(sx), free(acc);
    return rc;
}

nn_tensor *nn_q8_linear_forward(const nn_q8_weights *w, const nn_tensor *bias, nn_tensor *x) {
    const char *op = "nn_q8_linear_forward";
    NN_REQUIRE(w, op);
    NN_REQUIRE(x, op);
    if (x->ndim < 1 || x->shape[x->ndim - 1] != w->k) {
        nn_fail(op, "the input's last dim must equal the weights' K (inputs per output)",
                "input %s does not fit int8 weights (N = %d, K = %d)", SHAPE(x), w->n, w->k);
        return NULL;
    }
    if (bias && (bias->ndim != 1 || bias->shape[0] != w->n)) {
        nn_fail(op, "one bias per output", "bias %s for %d outputs", SHAPE(bias), w->n);
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = w->n;
    nn_tensor *y = nn_graph_tensor(x->ndim, shape, false);
    if (!y) return NULL;
    if (nn_q8_matmul(x->data, (int)(x->size / (size_t)w->k), w, bias ? bias->data : NULL,
                     y->data) != 0)
        return NULL;
    return y;
}
