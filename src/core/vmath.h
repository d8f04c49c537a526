/* src/core/vmath.h — e^x, tanh and the sigmoid over arrays, with vector instructions.
 *
 * Softmax, cross-entropy, GELU, the sigmoid and tanh call e^x millions of times per training
 * step (a char model's head alone: 2048 rows x 2502 classes). libm's expf and tanhf take one
 * number at a time; these take arrays, 8 or 16 numbers per instruction (AVX2, AVX-512, chosen
 * at run time). Every path, the plain C one included, does the same operations in the same
 * order, so all of them give the same bits: a result does not depend on the CPU it ran on.
 * Accuracy (tests/test_vmath.c measures it against double precision): e^x within 2 units in
 * the last place (ulp), tanh and the sigmoid within 4; NaN stays NaN, +-inf give the limits.
 *
 * The libm loops stay beside them as the reference (NN_VMATH_LIBM; NN_VMATH=libm in the
 * environment runs the whole library on them).
 */
#ifndef NN_VMATH_H
#define NN_VMATH_H

#include <stddef.h>

typedef enum {
    NN_VMATH_AUTO,     /* the widest vector path this CPU runs, else libm (or $NN_VMATH) */
    NN_VMATH_LIBM,     /* the reference: expf, tanhf, one at a time; sums in index order */
    NN_VMATH_PLAIN,    /* the vector algorithm in plain C, one number at a time */
    NN_VMATH_AVX2,     /* 8 floats per instruction */
    NN_VMATH_AVX512,   /* 16 */
} nn_vmath_path;

/* y[i] = e^(x[i] - shift) for i < n; returns the sum of the y[i]. y may be x (in place).
 * The sum is taken in 16 interleaved parts, then added in a fixed order, on every vector
 * path (the libm path adds in index order). */
float nn_vexp_sum(const float *x, float shift, float *y, size_t n);
void nn_vtanh(const float *x, float *y, size_t n);      /* y may be x */
void nn_vsigmoid(const float *x, float *y, size_t n);   /* y = 1 / (1 + e^-x); y may be x */
/* The sum of nn_vexp_sum for n values `stride` floats apart (a softmax along an axis other
 * than the last), the same bits; the e^(x - shift) themselves are not kept. */
float nn_vexp_sum_strided(const float *x, size_t stride, float shift, size_t n);
/* One number: the vector paths' algorithm (expf on the libm path), the same bits as theirs. */
float nn_exp1(float x);

/* Which path runs; tests/test_vmath.c checks each one it can. Returns -1 (and reports) for a
 * path this machine cannot run, else 0. */
int nn_vmath_set_path(nn_vmath_path path);
nn_vmath_path nn_vmath_path_in_use(void);
int nn_vmath_path_supported(nn_vmath_path path);
const char *nn_vmath_path_name(nn_vmath_path path);

#endif
