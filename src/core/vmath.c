/* src/core/vmath.c — e^x, tanh and the sigmoid over arrays (see vmath.h).
 *
 * e^x in four steps, each one exact or rounded once:
 *   1. clamp x to [-104, 89]: below, e^x is under half the smallest float (0); above, over
 *      the largest (inf). NaN passes through the clamp and stays NaN.
 *   2. k = round(x / ln 2), r = x - k ln 2, so e^x = 2^k e^r with |r| <= ln2 / 2 = 0.347.
 *      k comes from adding 1.5 * 2^23 (the float's rounding does it); r is computed with
 *      ln 2 cut into a float and a small remainder (Cody and Waite), each step one FMA.
 *   3. e^r by its Taylor series to r^7/7!: the first term left out, r^8/8!, is below
 *      6e-9 of the result for |r| <= 0.347, a twentieth of a float's rounding.
 *   4. times 2^k, built from k's bits in the exponent field; in two halves 2^(k/2) and
 *      2^(k - k/2), so that k down to -150 (results below 2^-126, the subnormal floats)
 *      and up to 128 (inf) needs no special case.
 * tanh x = (1 - e) / (1 + e) with e = e^(-2|x|), sign of x; for |x| < 0.5 that loses digits
 * (1 - e cancels), so there its Taylor series, x - x^3/3 + 2x^5/15 - ..., to x^17.
 * sigmoid x = 1 / (1 + e^-x), as 1 / (1 + e) or e / (1 + e) with e = e^(-|x|) <= 1.
 *
 * Each path does exactly these operations in this order, with fused multiply-adds (fmaf in
 * plain C, which the hardware or libm rounds once like the vector instruction), so every
 * path gives the same bits; the sums of nn_vexp_sum are kept in 16 parts on every path.
 */
#include "core/vmath.h"
#include "internal.h"
#include <stdatomic.h>
#include <stdint.h>
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define VMATH_X86 1
#endif

#define EXP_LO -104.0f
#define EXP_HI 89.0f
#define LOG2E 1.44269504088896341f
#define ROUNDER 12582912.0f          /* 1.5 * 2^23: x + this rounds x to an integer */
#define ROUNDER_BITS 0x4B400000
#define LN2_HI 0.693147182464599609375f   /* ln 2 rounded to a float */
#define LN2_LO -1.904654299957768e-09f    /* ln 2 - LN2_HI */
/* 1/n! for n = 2 .. 7 */
#define C2 0.5f
#define C3 0.16666667f
#define C4 0.041666668f
#define C5 0.0083333338f
#define C6 0.0013888889f
#define C7 0.00019841270f
/* tanh's series: x + x^3 (T3 + x^2 (T5 + ... + x^2 T17)); T_n from the Bernoulli numbers */
#define TANH_SERIES_BELOW 0.5f
#define T3 -0.33333333f                /* -1/3 */
#define T5 0.13333333f                 /* 2/15 */
#define T7 -0.053968254f               /* -17/315 */
#define T9 0.021869488f                /* 62/2835 */
#define T11 -0.0088632355f             /* -1382/155925 */
#define T13 0.0035921280f              /* 21844/6081075 */
#define T15 -0.0014558344f             /* -929569/638512875 */
#define T17 0.00059002744f             /* 6404582/10854718875 */
#define SUM_PARTS 16

/* ---- plain C: one number at a time -------------------------------------------------------- */

static float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static uint32_t float_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float exp1(float x) {
    x = EXP_HI < x ? EXP_HI : x;   /* written as the vector min/max are: NaN passes */
    x = EXP_LO > x ? EXP_LO : x;
    float t = fmaf(x, LOG2E, ROUNDER);
    float kf = t - ROUNDER;
    int32_t k = (int32_t)(float_to_bits(t) - ROUNDER_BITS);
    float r = fmaf(kf, -LN2_HI, x);
    r = fmaf(kf, -LN2_LO, r);
    float p = fmaf(C7, r, C6);
    p = fmaf(p, r, C5);
    p = fmaf(p, r, C4);
    p = fmaf(p, r, C3);
    p = fmaf(p, r, C2);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t k1 = k >> 1, k2 = k - k1;   /* (NaN: k is garbage, but p is NaN already) */
    float s1 = bits_to_float((uint32_t)(k1 + 127) << 23);
    float s2 = bits_to_float((uint32_t)(k2 + 127) << 23);
    return p * s1 * s2;
}

static float tanh1(float x) {
    float a = fabsf(x), s = x * x;
    float q = fmaf(T17, s, T15);
    q = fmaf(q, s, T13);
    q = fmaf(q, s, T11);
    q = fmaf(q, s, T9);
    q = fmaf(q, s, T7);
    q = fmaf(q, s, T5);
    q = fmaf(q, s, T3);
    float series = fmaf(a * s, q, a);
    float e = exp1(-2.0f * a);
    float far = (1.0f - e) / (1.0f + e);
    return copysignf(a < TANH_SERIES_BELOW ? series : far, x);   /* both >= 0: tanh(|x|) */
}

/* e = e^-|x| <= 1 never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) = 1 / (1 + e^-x)
 * for x < 0 (where e^-x would overflow at x < -88.7, long before the result reaches 0) */
static float sigmoid1(float x) {
    float e = exp1(-fabsf(x)), d = 1.0f + e;
    return x >= 0.0f ? 1.0f / d : e / d;
}

/* The 16 parts added pairwise in a fixed order: (0+8, 1+9, ...), then (0+4, ...), ... */
static float add_parts(float *part) {
    for (int w = SUM_PARTS / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) part[l] += part[l + w];
    return part[0];
}

/* The plain path: one number at a time, element i's value added into part i % 16. */
static float exp_sum_plain(const float *x, float shift, float *y, size_t n) {
    float part[SUM_PARTS] = {0};
    for (size_t i = 0; i < n; i++) {
        y[i] = exp1(x[i] - shift);
        part[i % SUM_PARTS] += y[i];
    }
    return add_parts(part);
}
static void tanh_plain(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = tanh1(x[i]);
}
static void sigmoid_plain(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = sigmoid1(x[i]);
}

/* ---- the reference: libm --------------------------------------------------------------- */

static float exp_sum_libm(const float *x, float shift, float *y, size_t n) {
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += y[i] = expf(x[i] - shift);
    return s;
}

/* ---- AVX2 and AVX-512: the same steps on 8 or 16 floats -------------------------------- */
#ifdef VMATH_X86

/* One macro body per instruction set, so the two vector paths cannot drift apart. For each:
 * V the vector type, P the intrinsics' prefix, and the few operations whose names differ
 * (AVX-512's float and/or/xor need AVX512DQ, so they go through the integer ones). */
#define X8_TO_INT(v) _mm256_castps_si256(v)
#define X8_TO_FLOAT(v) _mm256_castsi256_ps(v)
#define X8_AND(a, b) _mm256_and_ps(a, b)
#define X8_ANDNOT(a, b) _mm256_andnot_ps(a, b)
#define X8_OR(a, b) _mm256_or_ps(a, b)
#define X8_SELECT_LT(a, limit, yes, no) \
    _mm256_blendv_ps(no, yes, _mm256_cmp_ps(a, limit, _CMP_LT_OQ))
#define X16_TO_INT(v) _mm512_castps_si512(v)
#define X16_TO_FLOAT(v) _mm512_castsi512_ps(v)
#define X16_AND(a, b) X16_TO_FLOAT(_mm512_and_si512(X16_TO_INT(a), X16_TO_INT(b)))
#define X16_ANDNOT(a, b) X16_TO_FLOAT(_mm512_andnot_si512(X16_TO_INT(a), X16_TO_INT(b)))
#define X16_OR(a, b) X16_TO_FLOAT(_mm512_or_si512(X16_TO_INT(a), X16_TO_INT(b)))
#define X16_SELECT_LT(a, limit, yes, no) \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, limit, _CMP_LT_OQ), no, yes)

/* e^x of each lane: steps 1-4 above */
#define DEFINE_VECTOR_EXP(name, isa, V, I, P, X)                                        \
    __attribute__((target(isa), always_inline)) static inline V name(V x) {               \
        x = P##_min_ps(P##_set1_ps(EXP_HI), x); /* min(hi, NaN) = NaN */                  \
        x = P##_max_ps(P##_set1_ps(EXP_LO), x);                                           \
        V t = P##_fmadd_ps(x, P##_set1_ps(LOG2E), P##_set1_ps(ROUNDER));                  \
        V kf = P##_sub_ps(t, P##_set1_ps(ROUNDER));                                       \
        I k = P##_sub_epi32(X##_TO_INT(t), P##_set1_epi32(ROUNDER_BITS));                 \
        V r = P##_fmadd_ps(kf, P##_set1_ps(-LN2_HI), x);                                  \
        r = P##_fmadd_ps(kf, P##_set1_ps(-LN2_LO), r);                                    \
        V p = P##_fmadd_ps(P##_set1_ps(C7), r, P##_set1_ps(C6));                          \
        p = P##_fmadd_ps(p, r, P##_set1_ps(C5));                                          \
        p = P##_fmadd_ps(p, r, P##_set1_ps(C4));                                          \
        p = P##_fmadd_ps(p, r, P##_set1_ps(C3));                                          \
        p = P##_fmadd_ps(p, r, P##_set1_ps(C2));                                          \
        p = P##_fmadd_ps(p, r, P##_set1_ps(1.0f));                                        \
        p = P##_fmadd_ps(p, r, P##_set1_ps(1.0f));                                        \
        I k1 = P##_srai_epi32(k, 1), k2 = P##_sub_epi32(k, k1);                           \
        I bias = P##_set1_epi32(127);                                                     \
        V s1 = X##_TO_FLOAT(P##_slli_epi32(P##_add_epi32(k1, bias), 23));                 \
        V s2 = X##_TO_FLOAT(P##_slli_epi32(P##_add_epi32(k2, bias), 23));                 \
        return P##_mul_ps(P##_mul_ps(p, s1), s2);                                         \
    }
DEFINE_VECTOR_EXP(exp8, "avx2,fma", __m256, __m256i, _mm256, X8)
DEFINE_VECTOR_EXP(exp16, "avx512f", __m512, __m512i, _mm512, X16)

/* tanh of each lane: of |x|, the series below 0.5, (1 - e) / (1 + e) from there; then the
 * sign of x (so tanh(-0) = -0) */
#define DEFINE_VECTOR_TANH(name, expname, isa, V, P, X)                                 \
    __attribute__((target(isa), always_inline)) static inline V name(V x) {               \
        V sign = P##_set1_ps(-0.0f);                                                      \
        V a = X##_ANDNOT(sign, x), s = P##_mul_ps(x, x);                                  \
        V q = P##_fmadd_ps(P##_set1_ps(T17), s, P##_set1_ps(T15));                        \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T13));                                         \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T11));                                         \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T9));                                          \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T7));                                          \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T5));                                          \
        q = P##_fmadd_ps(q, s, P##_set1_ps(T3));                                          \
        V series = P##_fmadd_ps(P##_mul_ps(a, s), q, a);                                  \
        V e = expname(P##_mul_ps(P##_set1_ps(-2.0f), a));                                 \
        V one = P##_set1_ps(1.0f);                                                        \
        V far = P##_div_ps(P##_sub_ps(one, e), P##_add_ps(one, e));                       \
        /* tanh |x| (a NaN compares false and takes `far`, NaN too), then x's sign */     \
        V t = X##_SELECT_LT(a, P##_set1_ps(TANH_SERIES_BELOW), series, far);              \
        return X##_OR(t, X##_AND(sign, x));                                               \
    }
DEFINE_VECTOR_TANH(tanh8, exp8, "avx2,fma", __m256, _mm256, X8)
DEFINE_VECTOR_TANH(tanh16, exp16, "avx512f", __m512, _mm512, X16)

/* sigmoid of each lane: e = e^-|x|, then 1 / (1 + e) or e / (1 + e) */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 sigmoid8(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp8(X8_OR(x, _mm256_set1_ps(-0.0f))), d = _mm256_add_ps(one, e);
    __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ);   /* !(x >= 0) */
    return _mm256_div_ps(_mm256_blendv_ps(one, e, negative), d);
}
__attribute__((target("avx512f"), always_inline)) static inline __m512 sigmoid16(__m512 x) {
    __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp16(X16_OR(x, _mm512_set1_ps(-0.0f))), d = _mm512_add_ps(one, e);
    __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGE_UQ);
    return _mm512_div_ps(_mm512_mask_blend_ps(negative, one, e), d);
}

/* The last n % 8 (AVX2) or n % 16 (AVX-512) elements go through the same vector code with
 * the lanes past the end masked off: not read, not written, and adding 0 to the sums, so
 * every element takes the same steps (and the sums the same parts) as on the plain path. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256i first_lanes8(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define MASK16(n) ((__mmask16)((1u << (n)) - 1u))

__attribute__((target("avx2,fma"))) static float exp_sum_avx2(const float *x, float shift,
                                                               float *y, size_t n) {
    __m256 sh = _mm256_set1_ps(shift), lo = _mm256_setzero_ps(), hi = lo;
    size_t i = 0;
    for (; i + SUM_PARTS <= n; i += SUM_PARTS) {   /* parts 0-7 in lo, 8-15 in hi */
        __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh));
        __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), sh));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        lo = _mm256_add_ps(lo, e0);
        hi = _mm256_add_ps(hi, e1);
    }
    for (int half = 0; i < n; half++, i += 8) {   /* the tail: up to two masked vectors */
        size_t left = n - i;
        __m256i m = first_lanes8(left < 8 ? left : 8);
        __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), sh));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(y + i, m, e);
        if (half == 0) lo = _mm256_add_ps(lo, e);
        else hi = _mm256_add_ps(hi, e);
    }
    float part[SUM_PARTS];
    _mm256_storeu_ps(part, lo);
    _mm256_storeu_ps(part + 8, hi);
    return add_parts(part);
}
__attribute__((target("avx512f"))) static float exp_sum_avx512(const float *x, float shift,
                                                                float *y, size_t n) {
    __m512 sh = _mm512_set1_ps(shift), acc = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + SUM_PARTS <= n; i += SUM_PARTS) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
        _mm512_storeu_ps(y + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        __mmask16 m = MASK16(n - i);
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sh)));
        _mm512_mask_storeu_ps(y + i, m, e);
        acc = _mm512_add_ps(acc, e);
    }
    float part[SUM_PARTS];
    _mm512_storeu_ps(part, acc);
    return add_parts(part);
}

/* y = f(x) elementwise, 8 or 16 at a time, the tail masked */
#define ELEMENTWISE_AVX2(f8)                                                             \
    size_t i = 0;                                                                        \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f8(_mm256_loadu_ps(x + i)));      \
    if (i < n) {                                                                         \
        __m256i m = first_lanes8(n - i);                                                 \
        _mm256_maskstore_ps(y + i, m, f8(_mm256_maskload_ps(x + i, m)));                 \
    }
#define ELEMENTWISE_AVX512(f16)                                                          \
    size_t i = 0;                                                                        \
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f16(_mm512_loadu_ps(x + i)));   \
    if (i < n) {                                                                         \
        __mmask16 m = MASK16(n - i);                                                     \
        _mm512_mask_storeu_ps(y + i, m, f16(_mm512_maskz_loadu_ps(m, x + i)));           \
    }

__attribute__((target("avx2,fma"))) static void tanh_avx2(const float *x, float *y, size_t n) {
    ELEMENTWISE_AVX2(tanh8)
}
__attribute__((target("avx512f"))) static void tanh_avx512(const float *x, float *y, size_t n) {
    ELEMENTWISE_AVX512(tanh16)
}
__attribute__((target("avx2,fma"))) static void sigmoid_avx2(const float *x, float *y,
                                                              size_t n) {
    ELEMENTWISE_AVX2(sigmoid8)
}
__attribute__((target("avx512f"))) static void sigmoid_avx512(const float *x, float *y,
                                                                size_t n) {
    ELEMENTWISE_AVX512(sigmoid16)
}
#endif /* VMATH_X86 */

/* ---- which path: asked of the CPU once ------------------------------------------------ */

static const char *const path_names[] = {"auto", "libm", "plain", "avx2", "avx512"};

const char *nn_vmath_path_name(nn_vmath_path path) {
    return (unsigned)path < COUNT(path_names) ? path_names[path] : "?";
}

int nn_vmath_path_supported(nn_vmath_path path) {
    switch (path) {
    case NN_VMATH_AUTO: case NN_VMATH_LIBM: case NN_VMATH_PLAIN: return 1;
#ifdef VMATH_X86
    case NN_VMATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NN_VMATH_AVX512: return __builtin_cpu_supports("avx512f");
#endif
    default: return 0;
    }
}

static nn_vmath_path resolve_auto(void) {
    const char *env = getenv("NN_VMATH");
    if (env && *env) {
        for (int p = NN_VMATH_LIBM; p <= NN_VMATH_AVX512; p++)
            if (strcmp(env, path_names[p]) == 0 && nn_vmath_path_supported((nn_vmath_path)p))
                return (nn_vmath_path)p;
        fprintf(stderr, "libnn: NN_VMATH=%s is not a path this machine runs (libm, plain, "
                "avx2, avx512); using the fastest\n", env);
    }
    for (int p = NN_VMATH_AVX512; p > NN_VMATH_PLAIN; p--)
        if (nn_vmath_path_supported((nn_vmath_path)p)) return (nn_vmath_path)p;
    /* No vector path: libm. The plain path is there to show and test the algorithm; one
     * number at a time, with fmaf through libm where the CPU has no FMA, it is slower. */
    return NN_VMATH_LIBM;
}

/* atomic: ops call these from several threads at once (GELU's and cross-entropy's rows) */
static _Atomic int current_path = NN_VMATH_AUTO;

nn_vmath_path nn_vmath_path_in_use(void) {
    int p = atomic_load_explicit(&current_path, memory_order_relaxed);
    if (p == NN_VMATH_AUTO) {
        p = resolve_auto();
        atomic_store_explicit(&current_path, p, memory_order_relaxed);
    }
    return (nn_vmath_path)p;
}

int nn_vmath_set_path(nn_vmath_path path) {
    if ((unsigned)path >= COUNT(path_names) || !nn_vmath_path_supported(path)) {
        nn_fail("nn_vmath_set_path", "nn_vmath_path_supported() says which paths this "
                "machine runs", "path %d (%s) is not available here", (int)path,
                nn_vmath_path_name(path));
        return -1;
    }
    int p = path == NN_VMATH_AUTO ? (int)resolve_auto() : (int)path;
    atomic_store_explicit(&current_path, p, memory_order_relaxed);
    return 0;
}

/* ---- the entry points ----------------------------------------------------------------- */

float nn_exp1(float x) { return nn_vmath_path_in_use() == NN_VMATH_LIBM ? expf(x) : exp1(x); }

float nn_vexp_sum_strided(const float *x, size_t stride, float shift, size_t n) {
    if (nn_vmath_path_in_use() == NN_VMATH_LIBM) {
        float s = 0.0f;
        for (size_t k = 0; k < n; k++) s += expf(x[k * stride] - shift);
        return s;
    }
    float part[SUM_PARTS] = {0};
    for (size_t k = 0; k < n; k++) part[k % SUM_PARTS] += exp1(x[k * stride] - shift);
    return add_parts(part);
}

float nn_vexp_sum(const float *x, float shift, float *y, size_t n) {
    switch (nn_vmath_path_in_use()) {
    case NN_VMATH_LIBM: return exp_sum_libm(x, shift, y, n);
#ifdef VMATH_X86
    case NN_VMATH_AVX2: return exp_sum_avx2(x, shift, y, n);
    case NN_VMATH_AVX512: return exp_sum_avx512(x, shift, y, n);
#endif
    default: return exp_sum_plain(x, shift, y, n);
    }
}

void nn_vtanh(const float *x, float *y, size_t n) {
    switch (nn_vmath_path_in_use()) {
    case NN_VMATH_LIBM:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        return;
#ifdef VMATH_X86
    case NN_VMATH_AVX2: tanh_avx2(x, y, n); return;
    case NN_VMATH_AVX512: tanh_avx512(x, y, n); return;
#endif
    default: tanh_plain(x, y, n); return;
    }
}

void nn_vsigmoid(const float *x, float *y, size_t n) {
    switch (nn_vmath_path_in_use()) {
    case NN_VMATH_LIBM:
        /* e^-x overflows for very negative x; e^x / (1 + e^x) there */
        for (size_t i = 0; i < n; i++) {
            float xi = x[i], e = expf(xi >= 0.0f ? -xi : xi);
            y[i] = xi >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        }
        return;
#ifdef VMATH_X86
    case NN_VMATH_AVX2: sigmoid_avx2(x, y, n); return;
    case NN_VMATH_AVX512: sigmoid_avx512(x, y, n); return;
#endif
    default: sigmoid_plain(x, y, n); return;
    }
}
