/* tests/test_shape_ops.c — slice, concat, stack, split, chunk and permute along any axis.
 *
 * Forward values are compared with plain index loops written here; gradients with central
 * differences (nn_gradcheck) on L = sum(op(x) * R) with a fixed random R, so every output
 * element has its own weight and a wrong index in backward cannot hide. The last part writes
 * an op of five inputs with nn_record_n, as a user would. */
#include "testing.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* An owned tensor whose elements are start, start + 1, ...: each value says where it sits. */
static nn_tensor *iota_from(float start, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    for (size_t i = 0; i < t->size; i++) t->data[i] = start + (float)i;
    return t;
}

/* Row-major offset of the multi-index idx in t, and the multi-index of an offset. */
static size_t offset_of(const nn_tensor *t, const int *idx) {
    size_t o = 0;
    for (int d = 0; d < t->ndim; d++) o = o * (size_t)t->shape[d] + (size_t)idx[d];
    return o;
}
static void index_of(const nn_tensor *t, size_t flat, int *idx) {
    for (int d = t->ndim - 1; d >= 0; d--) {
        idx[d] = (int)(flat % (size_t)t->shape[d]);
        flat /= (size_t)t->shape[d];
    }
}

static void assert_shape(const nn_tensor *t, int ndim, const int *shape) {
    assert_non_null(t);
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != shape[d])
            fail_msg("dim %d: got %d, want %d", d, t->shape[d], shape[d]);
}

/* y == x[..., start : start + len, ...] along axis a (a >= 0), by index loops. */
static void expect_slice(const nn_tensor *x, int a, int start, const nn_tensor *y) {
    int idx[NN_MAX_DIMS];
    for (size_t o = 0; o < y->size; o++) {
        index_of(y, o, idx);
        idx[a] += start;
        assert_float_equal(y->data[o], x->data[offset_of(x, idx)], 0);
    }
}

/* y == the n inputs joined along axis a: walk y and find which input each element is from. */
static void expect_concat(int a, int n, nn_tensor *const *xs, const nn_tensor *y) {
    int idx[NN_MAX_DIMS];
    for (size_t o = 0; o < y->size; o++) {
        index_of(y, o, idx);
        int k = 0;
        while (k < n && idx[a] >= xs[k]->shape[a]) idx[a] -= xs[k++]->shape[a];
        assert_true(k < n);
        assert_float_equal(y->data[o], xs[k]->data[offset_of(xs[k], idx)], 0);
    }
}

/* y == the inputs stacked along a new axis a: y[..., k, ...] = xs[k][...]. */
static void expect_stack(int a, const nn_tensor *const *xs, const nn_tensor *y) {
    int idx[NN_MAX_DIMS], xidx[NN_MAX_DIMS];
    for (size_t o = 0; o < y->size; o++) {
        index_of(y, o, idx);
        for (int d = 0, s = 0; d < y->ndim; d++)
            if (d != a) xidx[s++] = idx[d];
        const nn_tensor *x = xs[idx[a]];
        assert_float_equal(y->data[o], x->data[offset_of(x, xidx)], 0);
    }
}

/* y == x with its axes reordered: output axis d is input axis perm[d] (perm normalized). */
static void expect_permute(const nn_tensor *x, const int *perm, const nn_tensor *y) {
    int idx[NN_MAX_DIMS], xidx[NN_MAX_DIMS];
    assert_int_equal(y->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++) assert_int_equal(y->shape[d], x->shape[perm[d]]);
    for (size_t o = 0; o < y->size; o++) {
        index_of(y, o, idx);
        for (int d = 0; d < y->ndim; d++) xidx[perm[d]] = idx[d];
        assert_float_equal(y->data[o], x->data[offset_of(x, xidx)], 0);
    }
}

/* sum(y * R), R uniform in [-1, 1] from its own generator seeded with `seed`: the same R at
 * every evaluation of the loss, a different weight for every element. */
static nn_tensor *weighted(nn_tensor *y, uint64_t seed) {
    nn_tensor *r = nn_graph_tensor(y->ndim, y->shape, false);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(r, -1.0f, 1.0f, &rng);
    return nn_sum(nn_mul(y, r));
}

static nn_tensor *input(int ndim, const int *shape) {
    return nn_requires_grad(nn_rand_uniform(-1.0f, 1.0f, ndim, shape));
}

/* Gradcheck every element of the n inputs. These ops only copy, so L is linear in x and
 * central differences are exact but for the float32 rounding of L (about 1e-6 for a sum of a
 * few hundred terms, over 2 eps = 0.02: 5e-5). 1e-3 leaves a wide margin and is still far
 * tighter than any misplaced gradient (an error of order 1). */
static void expect_grads_ok(nn_loss_fn f, nn_tensor **in, int n, void *user) {
    nn_gradcheck_result r = nn_gradcheck(f, in, n, user, 1e-2, 1e-3);
    if (!r.ok)
        fail_msg("gradcheck failed: input %d element %zu analytic %.6g numeric %.6g rel %.3g",
                 r.worst_input, r.worst_index, r.analytic, r.numeric, r.max_rel_err);
    size_t total = 0;
    for (int k = 0; k < n; k++) total += in[k]->size;
    assert_int_equal(r.checked, total);
}

static void free_all(nn_tensor **ts, int n) {
    for (int k = 0; k < n; k++) nn_tensor_free(ts[k]);
}

/* ---- forward values ----------------------------------------------------------------------- */

static void test_slice_values(void **state) {
    (void)state;
    nn_tensor *x = iota_from(0, NN_SHAPE(2, 3, 4));   /* (B, T, C) */
    nn_tensor *y = nn_slice(x, 1, 1, 2);
    assert_shape(y, NN_SHAPE(2, 2, 4));
    expect_slice(x, 1, 1, y);
    y = nn_slice(x, -1, 1, 3);                         /* negative axis: the last one */
    assert_shape(y, NN_SHAPE(2, 3, 3));
    expect_slice(x, 2, 1, y);
    y = nn_slice(x, -3, 1, 1);
    assert_shape(y, NN_SHAPE(1, 3, 4));
    assert_floats_near(y->data, x->data + 12, 12, 0); /* the second batch, contiguous */
    for (int t = 0; t < 3; t++) {                      /* x[:, t, :], shape (B, 1, C) */
        y = nn_slice(x, 1, t, 1);
        assert_shape(y, NN_SHAPE(2, 1, 4));
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 4; c++)
                assert_float_equal(y->data[b * 4 + c], x->data[(b * 3 + t) * 4 + c], 0);
    }
    y = nn_slice(x, 2, 0, 4);                          /* the whole axis is a copy */
    assert_shape(y, NN_SHAPE(2, 3, 4));
    assert_floats_near(y->data, x->data, x->size, 0);
    nn_tensor *v = iota_from(0, NN_SHAPE(6));          /* 1-D */
    assert_floats_near(nn_slice(v, 0, 2, 3)->data, (float[]){2, 3, 4}, 3, 0);
    nn_tensor_free(x);
    nn_tensor_free(v);
}

static void test_concat_values(void **state) {
    (void)state;
    /* (B, 3) and (B, 5) -> (B, 8) along the last axis, given as 1 and as -1 */
    nn_tensor *a = iota_from(0, NN_SHAPE(2, 3)), *b = iota_from(100, NN_SHAPE(2, 5));
    nn_tensor *ab[2] = {a, b};
    nn_tensor *y = nn_concat(1, 2, ab);
    assert_shape(y, NN_SHAPE(2, 8));
    assert_floats_near(y->data, (float[]){0, 1, 2, 100, 101, 102, 103, 104,
                                          3, 4, 5, 105, 106, 107, 108, 109}, 16, 0);
    nn_tensor *y2 = nn_concat(-1, 2, ab);
    assert_shape(y2, NN_SHAPE(2, 8));
    assert_floats_near(y2->data, y->data, 16, 0);

    /* axis 0: rows one after another, (1, 3) + (3, 3) -> (4, 3) */
    nn_tensor *r1 = iota_from(0, NN_SHAPE(1, 3)), *r3 = iota_from(10, NN_SHAPE(3, 3));
    nn_tensor *rows[2] = {r1, r3};
    y = nn_concat(0, 2, rows);
    assert_shape(y, NN_SHAPE(4, 3));
    expect_concat(0, 2, rows, y);
    assert_floats_near(y->data, (float[]){0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18}, 12, 0);

    /* a middle axis with unequal sizes: (2, 1, 4) + (2, 3, 4) + (2, 2, 4) -> (2, 6, 4) */
    nn_tensor *m[3] = {iota_from(0, NN_SHAPE(2, 1, 4)), iota_from(100, NN_SHAPE(2, 3, 4)),
                       iota_from(200, NN_SHAPE(2, 2, 4))};
    y = nn_concat(1, 3, m);
    assert_shape(y, NN_SHAPE(2, 6, 4));
    expect_concat(1, 3, m, y);
    y = nn_concat(-2, 3, m);                          /* the same axis counted from the end */
    expect_concat(1, 3, m, y);

    /* the last axis of a 3-D tensor, and one input alone (a copy) */
    nn_tensor *l[2] = {iota_from(0, NN_SHAPE(2, 3, 1)), iota_from(50, NN_SHAPE(2, 3, 2))};
    y = nn_concat(2, 2, l);
    assert_shape(y, NN_SHAPE(2, 3, 3));
    expect_concat(2, 2, l, y);
    y = nn_concat(0, 1, &b);
    assert_shape(y, NN_SHAPE(2, 5));
    assert_floats_near(y->data, b->data, 10, 0);

    nn_tensor_free(a);
    nn_tensor_free(b);
    free_all(rows, 2);
    free_all(m, 3);
    free_all(l, 2);
}

static void test_stack_values(void **state) {
    (void)state;
    nn_tensor *xs[3] = {iota_from(0, NN_SHAPE(2, 3)), iota_from(100, NN_SHAPE(2, 3)),
                        iota_from(200, NN_SHAPE(2, 3))};
    nn_tensor *y = nn_stack(0, 3, xs);                 /* (3, 2, 3): inputs one after another */
    assert_shape(y, NN_SHAPE(3, 2, 3));
    expect_stack(0, (const nn_tensor *const *)xs, y);
    assert_floats_near(y->data + 6, xs[1]->data, 6, 0);
    y = nn_stack(1, 3, xs);                            /* (B, n, C) */
    assert_shape(y, NN_SHAPE(2, 3, 3));
    expect_stack(1, (const nn_tensor *const *)xs, y);
    assert_floats_near(y->data, (float[]){0, 1, 2, 100, 101, 102, 200, 201, 202}, 9, 0);
    y = nn_stack(-1, 3, xs);                           /* a new last axis */
    assert_shape(y, NN_SHAPE(2, 3, 3));
    expect_stack(2, (const nn_tensor *const *)xs, y);
    assert_floats_near(y->data, (float[]){0, 100, 200, 1, 101, 201}, 6, 0);
    nn_tensor *y2 = nn_stack(2, 3, xs);                /* 2 == ndim is the same place as -1 */
    assert_floats_near(y2->data, y->data, y->size, 0);
    y = nn_stack(-3, 3, xs);                           /* -3 counts from the result's end: 0 */
    expect_stack(0, (const nn_tensor *const *)xs, y);

    /* 3-D inputs into a 4-D result, new axis in the middle */
    nn_tensor *t[2] = {iota_from(0, NN_SHAPE(2, 2, 3)), iota_from(100, NN_SHAPE(2, 2, 3))};
    y = nn_stack(2, 2, t);
    assert_shape(y, NN_SHAPE(2, 2, 2, 3));
    expect_stack(2, (const nn_tensor *const *)t, y);

    /* scalars stack into a vector */
    nn_tensor *s3[3] = {nn_scalar(1), nn_scalar(2), nn_scalar(3)};
    y = nn_stack(0, 3, s3);
    assert_shape(y, NN_SHAPE(3));
    assert_floats_near(y->data, (float[]){1, 2, 3}, 3, 0);
    assert_floats_near(nn_stack(-1, 3, s3)->data, (float[]){1, 2, 3}, 3, 0);
    free_all(xs, 3);
    free_all(t, 2);
    free_all(s3, 3);
}

static void test_split_values(void **state) {
    (void)state;
    nn_tensor *x = iota_from(0, NN_SHAPE(2, 7, 3));
    nn_tensor *parts[3];
    assert_int_equal(nn_split(x, 1, 3, (const int[]){2, 4, 1}, parts), 0);
    assert_shape(parts[0], NN_SHAPE(2, 2, 3));
    assert_shape(parts[1], NN_SHAPE(2, 4, 3));
    assert_shape(parts[2], NN_SHAPE(2, 1, 3));
    expect_slice(x, 1, 0, parts[0]);
    expect_slice(x, 1, 2, parts[1]);
    expect_slice(x, 1, 6, parts[2]);
    /* joined back, the parts are x again */
    assert_floats_near(nn_concat(1, 3, parts)->data, x->data, x->size, 0);

    nn_tensor *m = iota_from(0, NN_SHAPE(4, 6)), *two[2];
    assert_int_equal(nn_split(m, -1, 2, (const int[]){1, 5}, two), 0);
    assert_shape(two[0], NN_SHAPE(4, 1));
    assert_shape(two[1], NN_SHAPE(4, 5));
    assert_floats_near(two[0]->data, (float[]){0, 6, 12, 18}, 4, 0);
    expect_slice(m, 1, 1, two[1]);
    nn_tensor *one[1];                                 /* one part: the whole axis */
    assert_int_equal(nn_split(m, 0, 1, (const int[]){4}, one), 0);
    assert_floats_near(one[0]->data, m->data, m->size, 0);
    nn_tensor_free(x);
    nn_tensor_free(m);
}

static void test_chunk_values(void **state) {
    (void)state;
    /* the LSTM's four gates from one (B, 4H) product: gate g is columns g*H .. g*H + H-1 */
    enum { B = 2, H = 3, T = 3, C = 4 };
    nn_tensor *z = iota_from(0, NN_SHAPE(B, 4 * H)), *gates[4];
    assert_int_equal(nn_chunk(z, 1, 4, gates), 0);
    for (int g = 0; g < 4; g++) {
        assert_shape(gates[g], NN_SHAPE(B, H));
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                assert_float_equal(gates[g]->data[b * H + h], z->data[b * 4 * H + g * H + h], 0);
    }
    /* Q, K, V from one (B, T, 3C) projection, cut along the last axis */
    nn_tensor *qkv = iota_from(0, NN_SHAPE(B, T, 3 * C)), *p[3];
    assert_int_equal(nn_chunk(qkv, -1, 3, p), 0);
    for (int k = 0; k < 3; k++) {
        assert_shape(p[k], NN_SHAPE(B, T, C));
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < C; c++)
                    assert_float_equal(p[k]->data[(b * T + t) * C + c],
                                       qkv->data[(b * T + t) * 3 * C + k * C + c], 0);
    }
    /* along the first axis, and n = 1 */
    nn_tensor *halves[2], *whole[1];
    assert_int_equal(nn_chunk(qkv, 0, 2, halves), 0);
    assert_floats_near(halves[1]->data, qkv->data + T * 3 * C, T * 3 * C, 0);
    assert_int_equal(nn_chunk(qkv, 1, 1, whole), 0);
    assert_floats_near(whole[0]->data, qkv->data, qkv->size, 0);
    nn_tensor_free(z);
    nn_tensor_free(qkv);
}

static void test_permute_values(void **state) {
    (void)state;
    /* 2-D: the transpose */
    nn_tensor *m = iota_from(0, NN_SHAPE(3, 4));
    nn_tensor *mt = nn_permute(m, NN_AXES(1, 0));
    assert_shape(mt, NN_SHAPE(4, 3));
    assert_floats_near(mt->data, nn_transpose(m)->data, 12, 0);
    assert_floats_near(nn_permute(m, NN_AXES(0, 1))->data, m->data, 12, 0); /* identity */

    /* 3-D: output axis d is input axis perm[d] */
    nn_tensor *x3 = iota_from(0, NN_SHAPE(2, 3, 4));
    nn_tensor *y = nn_permute(x3, NN_AXES(2, 0, 1));
    assert_shape(y, NN_SHAPE(4, 2, 3));
    expect_permute(x3, (const int[]){2, 0, 1}, y);
    assert_float_equal(nn_at(y, 3, 1, 2), nn_at(x3, 1, 2, 3), 0);
    expect_permute(x3, (const int[]){1, 2, 0}, nn_permute(x3, NN_AXES(1, 2, 0)));

    /* 4-D: (B, T, H, d) -> (B, H, T, d), and back again is the identity */
    nn_tensor *x4 = iota_from(0, NN_SHAPE(2, 3, 4, 5));
    nn_tensor *bhtd = nn_permute(x4, NN_AXES(0, 2, 1, 3));
    assert_shape(bhtd, NN_SHAPE(2, 4, 3, 5));
    expect_permute(x4, (const int[]){0, 2, 1, 3}, bhtd);
    for (int b = 0; b < 2; b++)
        for (int t = 0; t < 3; t++)
            for (int h = 0; h < 4; h++)
                for (int d = 0; d < 5; d++)
                    assert_float_equal(bhtd->data[((b * 4 + h) * 3 + t) * 5 + d],
                                       x4->data[((b * 3 + t) * 4 + h) * 5 + d], 0);
    nn_tensor *back = nn_permute(bhtd, NN_AXES(0, 2, 1, 3));
    assert_shape(back, NN_SHAPE(2, 3, 4, 5));
    assert_floats_near(back->data, x4->data, x4->size, 0);

    /* a permutation that is not its own inverse, then its inverse */
    nn_tensor *p = nn_permute(x4, NN_AXES(3, 0, 2, 1));  /* (5, 2, 4, 3) */
    expect_permute(x4, (const int[]){3, 0, 2, 1}, p);
    nn_tensor *q = nn_permute(p, NN_AXES(1, 3, 2, 0));   /* inverse: input axis i at inv[i] */
    assert_shape(q, NN_SHAPE(2, 3, 4, 5));
    assert_floats_near(q->data, x4->data, x4->size, 0);

    /* negative axes count from the end: (0, -2, 1, -1) is (0, 2, 1, 3) */
    nn_tensor *neg = nn_permute(x4, NN_AXES(0, -2, 1, -1));
    assert_shape(neg, NN_SHAPE(2, 4, 3, 5));
    assert_floats_near(neg->data, bhtd->data, x4->size, 0);
    nn_tensor *v = iota_from(0, NN_SHAPE(5));              /* 1-D: the only permutation */
    assert_floats_near(nn_permute(v, NN_AXES(-1))->data, v->data, 5, 0);

    nn_tensor_free(m);
    nn_tensor_free(x3);
    nn_tensor_free(x4);
    nn_tensor_free(v);
}

/* ---- gradients ---------------------------------------------------------------------------- */

static nn_tensor *loss_slice(nn_tensor **in, void *user) {
    (void)user;   /* two slices of one input: an inner axis, and the last counted from the end */
    return nn_add(weighted(nn_slice(in[0], 1, 1, 2), 1), weighted(nn_slice(in[0], -1, 2, 1), 2));
}
static void test_grad_slice(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(NN_SHAPE(2, 4, 3))};
    expect_grads_ok(loss_slice, in, 1, NULL);
    /* exact: an element outside both slices gets no gradient at all */
    nn_zero_grad(in[0]);
    nn_backward(loss_slice(in, NULL));
    assert_float_equal(in[0]->grad[0], 0.0f, 0);    /* (0, 0, 0): t = 0 and c = 0 */
    assert_true(in[0]->grad[1 * 3 + 0] != 0.0f);    /* (0, 1, 0): inside the first slice */
    nn_tensor_free(in[0]);
}

static nn_tensor *loss_concat3(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_concat(1, 3, in), 3);
}
static void test_grad_concat3_middle_axis(void **state) {
    (void)state;
    nn_tensor *in[3] = {input(NN_SHAPE(2, 1, 3)), input(NN_SHAPE(2, 3, 3)),
                        input(NN_SHAPE(2, 2, 3))};
    expect_grads_ok(loss_concat3, in, 3, NULL);
    free_all(in, 3);
}

/* 64 inputs: far beyond the three of nn_record, with unequal sizes along the axis */
enum { MANY = 64 };
static nn_tensor *loss_concat_many(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_concat(-2, MANY, in), 4);
}
static void test_grad_concat_64_inputs(void **state) {
    (void)state;
    nn_tensor *in[MANY];
    for (int k = 0; k < MANY; k++) in[k] = input(NN_SHAPE(2, 1 + k % 3, 3));
    nn_tensor *y = nn_concat(1, MANY, in);
    assert_shape(y, NN_SHAPE(2, 127, 3));            /* 64 + (0 + 1 + 2) * 21 */
    expect_concat(1, MANY, in, y);
    assert_int_equal(y->node->nin, MANY);
    nn_graph_clear();
    expect_grads_ok(loss_concat_many, in, MANY, NULL);
    free_all(in, MANY);
}

static nn_tensor *loss_concat_twice(nn_tensor **in, void *user) {
    (void)user;
    nn_tensor *xs[4] = {in[0], in[1], in[0], in[0]};  /* x three times, y once */
    return weighted(nn_concat(0, 4, xs), 5);
}
static void test_grad_concat_same_input_twice(void **state) {
    (void)state;
    nn_tensor *in[2] = {input(NN_SHAPE(2, 3)), input(NN_SHAPE(1, 3))};
    expect_grads_ok(loss_concat_twice, in, 2, NULL);

    /* exactly: dL/dx is the sum of the three blocks of R that x's copies were weighted by */
    nn_zero_grad(in[0]);
    nn_zero_grad(in[1]);
    nn_tensor *xs[4] = {in[0], in[1], in[0], in[0]};
    nn_tensor *y = nn_concat(0, 4, xs);               /* (2 + 1 + 2 + 2, 3) = (7, 3) */
    nn_tensor *r = nn_graph_tensor(y->ndim, y->shape, false);
    for (size_t i = 0; i < r->size; i++) r->data[i] = (float)(i + 1);
    nn_backward(nn_sum(nn_mul(y, r)));
    for (int i = 0; i < 6; i++)                       /* rows 0-1, 3-4 and 5-6 of R */
        assert_float_equal(in[0]->grad[i], r->data[i] + r->data[9 + i] + r->data[15 + i], 0);
    assert_floats_near(in[1]->grad, r->data + 6, 3, 0);
    free_all(in, 2);
}

static void test_concat_with_a_constant(void **state) {
    (void)state;
    /* only the inputs that want a gradient get one; a constant among them is skipped */
    nn_tensor *x = input(NN_SHAPE(2, 2)), *c = nn_ones(NN_SHAPE(2, 3));
    nn_tensor *xs[2] = {c, x};
    nn_tensor *y = nn_concat(1, 2, xs);
    assert_true(y->requires_grad);
    nn_backward(nn_sum(nn_mul_scalar(y, 3.0f)));
    assert_floats_near(x->grad, (float[]){3, 3, 3, 3}, 4, 0);
    assert_null(c->grad);

    /* a frozen parameter keeps its grad buffer but asked for no gradient: it stays zero */
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2, 1), true);
    nn_fill(w, 0.5f);
    assert_int_equal(nn_model_freeze(m, "w"), 1);
    nn_tensor *xw[3] = {x, w, x};
    nn_zero_grad(x);
    nn_backward(nn_sum(nn_mul_scalar(nn_concat(-1, 3, xw), 3.0f)));
    assert_floats_near(x->grad, (float[]){6, 6, 6, 6}, 4, 0);
    assert_non_null(w->grad);
    assert_floats_near(w->grad, (float[]){0, 0}, 2, 0);
    nn_model_free(m);
    nn_tensor_free(x);
    nn_tensor_free(c);
}

static nn_tensor *loss_stack(nn_tensor **in, void *user) {
    (void)user;   /* a middle axis and the last one */
    return nn_add(weighted(nn_stack(1, 3, in), 6), weighted(nn_stack(-1, 3, in), 7));
}
static void test_grad_stack(void **state) {
    (void)state;
    nn_tensor *in[3] = {input(NN_SHAPE(2, 3)), input(NN_SHAPE(2, 3)), input(NN_SHAPE(2, 3))};
    expect_grads_ok(loss_stack, in, 3, NULL);
    free_all(in, 3);
}

/* L = sum_k (k + 1) sum(part_k * R_k): each part weighted differently, so a gradient that
 * went to the wrong part would show. */
static nn_tensor *sum_parts(nn_tensor **parts, int n, const bool *use) {
    nn_tensor *loss = NULL;
    for (int k = 0; k < n; k++) {
        if (use && !use[k]) continue;
        nn_tensor *term = nn_mul_scalar(weighted(parts[k], 10 + (uint64_t)k), (float)(k + 1));
        loss = loss ? nn_add(loss, term) : term;
    }
    return loss;
}
static nn_tensor *loss_split(nn_tensor **in, void *user) {
    (void)user;
    nn_tensor *parts[3];
    assert_int_equal(nn_split(in[0], 1, 3, (const int[]){1, 3, 2}, parts), 0);
    return sum_parts(parts, 3, NULL);
}
static void test_grad_split(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(NN_SHAPE(2, 6, 2))};
    expect_grads_ok(loss_split, in, 1, NULL);
    nn_tensor_free(in[0]);
}

static nn_tensor *loss_chunk(nn_tensor **in, void *user) {
    nn_tensor *gates[4];
    assert_int_equal(nn_chunk(in[0], -1, 4, gates), 0);
    return sum_parts(gates, 4, user);
}
static void test_grad_chunk(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(NN_SHAPE(3, 8))};      /* (B, 4H), H = 2 */
    expect_grads_ok(loss_chunk, in, 1, NULL);
    /* parts left out of the loss: their region of x gets exactly zero */
    const bool use[4] = {true, false, true, false};
    expect_grads_ok(loss_chunk, in, 1, (void *)use);
    nn_zero_grad(in[0]);
    nn_backward(loss_chunk(in, (void *)use));
    for (int b = 0; b < 3; b++)
        for (int c = 0; c < 8; c++) {
            bool used = use[c / 2];
            assert_true((in[0]->grad[b * 8 + c] != 0.0f) == used);
        }
    nn_tensor_free(in[0]);
}

static nn_tensor *loss_permute(nn_tensor **in, void *user) {
    const int *perm = user;
    return weighted(nn_permute(in[0], 4, perm), 8);
}
static void test_grad_permute_4d(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(NN_SHAPE(2, 3, 2, 4))};   /* (B, T, H, d) */
    static const int bhtd[4] = {0, 2, 1, 3}, mixed[4] = {3, 1, 0, 2}, neg[4] = {-1, 0, -2, 1};
    expect_grads_ok(loss_permute, in, 1, (void *)bhtd);
    expect_grads_ok(loss_permute, in, 1, (void *)mixed);
    expect_grads_ok(loss_permute, in, 1, (void *)neg);
    nn_tensor_free(in[0]);
}

static nn_tensor *loss_permute_3d(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_permute(in[0], NN_AXES(1, 2, 0)), 9);
}
static void test_grad_permute_3d(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(NN_SHAPE(2, 3, 4))};
    expect_grads_ok(loss_permute_3d, in, 1, NULL);
    nn_tensor_free(in[0]);
}

/* ---- misuse ------------------------------------------------------------------------------- */

static void test_slice_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 3));
    EXPECT_NN_ERROR(nn_slice(x, 1, 2, 2), "nn_slice", "slice 2..3", "axis 1", "(2, 3)",
                    "must lie inside");
    EXPECT_NN_ERROR(nn_slice(x, 0, -1, 1), "nn_slice", "slice -1..-1");
    EXPECT_NN_ERROR(nn_slice(x, 0, 0, 0), "nn_slice", "len >= 1");
    EXPECT_NN_ERROR(nn_slice(x, 0, 0, 3), "nn_slice", "slice 0..2", "axis 0");
    EXPECT_NN_ERROR(nn_slice(x, 0, 2, INT32_MAX), "nn_slice", "slice 2..2147483648"); /* no overflow */
    EXPECT_NN_ERROR(nn_slice(x, 2, 0, 1), "nn_slice", "axis 2 is out of range", "(2, 3)");
    EXPECT_NN_ERROR(nn_slice(x, -3, 0, 1), "nn_slice", "axis -3");
    EXPECT_NN_ERROR(nn_slice(NULL, 0, 0, 1), "nn_slice", "is NULL");
    nn_tensor_free(x);
}

static void test_concat_and_stack_errors(void **state) {
    (void)state;
    nn_tensor *a = nn_zeros(NN_SHAPE(2, 3)), *b = nn_zeros(NN_SHAPE(3, 3)),
              *c = nn_zeros(NN_SHAPE(3, 2)), *v = nn_zeros(NN_SHAPE(6)),
              *d4 = nn_zeros(NN_SHAPE(1, 2, 3, 4));
    nn_tensor *ab[2] = {a, b}, *ac[2] = {a, c}, *av[2] = {a, v}, *an[2] = {a, NULL};
    /* concat: every dim but the joined one must agree */
    EXPECT_NN_ERROR(nn_concat(1, 2, ab), "nn_concat", "all dims but the joined axis",
                    "(2, 3)", "(3, 3)", "axis 1");
    nn_concat(0, 2, ab);                               /* fine along axis 0 */
    EXPECT_NN_ERROR(nn_concat(0, 2, ac), "nn_concat", "(2, 3)", "(3, 2)");
    EXPECT_NN_ERROR(nn_concat(0, 2, av), "nn_concat", "same number of dims", "(6)");
    EXPECT_NN_ERROR(nn_concat(2, 2, ab), "nn_concat", "axis 2 is out of range");
    EXPECT_NN_ERROR(nn_concat(0, 0, ab), "nn_concat", "n = 0");
    EXPECT_NN_ERROR(nn_concat(0, 2, NULL), "nn_concat", "n >= 1");
    EXPECT_NN_ERROR(nn_concat(0, 2, an), "nn_concat", "input 1 of 2 is NULL");
    /* stack: every shape must be the same, and the result has at most 4 dims */
    EXPECT_NN_ERROR(nn_stack(0, 2, ab), "nn_stack", "same shape", "(2, 3)", "(3, 3)");
    EXPECT_NN_ERROR(nn_stack(0, 2, ac), "nn_stack", "same shape", "(3, 2)");
    EXPECT_NN_ERROR(nn_stack(0, 2, av), "nn_stack", "same number of dims");
    EXPECT_NN_ERROR(nn_stack(3, 1, &a), "nn_stack", "axis 3", "(2, 3)");
    EXPECT_NN_ERROR(nn_stack(-4, 1, &a), "nn_stack", "axis -4");
    EXPECT_NN_ERROR(nn_stack(0, 1, &d4), "nn_stack", "at most 4 dims", "(1, 2, 3, 4)");
    EXPECT_NN_ERROR(nn_stack(0, 2, an), "nn_stack", "input 1 of 2 is NULL");
    EXPECT_NN_ERROR(nn_stack(0, -1, ab), "nn_stack", "n = -1");
    nn_tensor *all[] = {a, b, c, v, d4};
    free_all(all, 5);
}

static void test_split_chunk_permute_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 7)), *x3 = nn_zeros(NN_SHAPE(2, 3, 4));
    nn_tensor *parts[4];
    EXPECT_NN_ERROR(nn_chunk(x, 1, 3, parts), "nn_chunk", "size 7", "3 equal parts", "(2, 7)",
                    "divide evenly");
    EXPECT_NN_ERROR(nn_chunk(x, 0, 0, parts), "nn_chunk", "0 equal parts");
    EXPECT_NN_ERROR(nn_chunk(x, 2, 1, parts), "nn_chunk", "axis 2 is out of range");
    EXPECT_NN_ERROR(nn_chunk(NULL, 0, 1, parts), "nn_chunk", "is NULL");
    EXPECT_NN_ERROR(nn_chunk(x, 0, 1, NULL), "nn_chunk", "'parts' is NULL");
    EXPECT_NN_ERROR(nn_split(x, 1, 2, (const int[]){2, 3}, parts), "nn_split", "cannot split",
                    "axis 1", "(2, 7)", "2 parts", "adding up");
    EXPECT_NN_ERROR(nn_split(x, 1, 2, (const int[]){5, 3}, parts), "nn_split", "cannot split");
    EXPECT_NN_ERROR(nn_split(x, 1, 2, (const int[]){0, 7}, parts), "nn_split", "each >= 1");
    EXPECT_NN_ERROR(nn_split(x, 1, 2, (const int[]){8, -1}, parts), "nn_split", "cannot split");
    EXPECT_NN_ERROR(nn_split(x, 1, 0, (const int[]){7}, parts), "nn_split", "0 parts");
    EXPECT_NN_ERROR(nn_split(x, 1, 1, NULL, parts), "nn_split", "'sizes' is NULL");
    EXPECT_NN_ERROR(nn_split(x, 1, 1, (const int[]){7}, NULL), "nn_split", "'parts' is NULL");
    EXPECT_NN_ERROR(nn_split(NULL, 1, 1, (const int[]){7}, parts), "nn_split", "is NULL");

    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(0, 0, 1)), "nn_permute", "not a permutation",
                    "3 axes", "(2, 3, 4)", "exactly once");
    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(1, 0)), "nn_permute", "not a permutation", "3 axes");
    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(0, 1, 2, 3)), "nn_permute", "not a permutation");
    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(0, 1, 3)), "nn_permute", "not a permutation");
    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(0, -1, 2)), "nn_permute", "not a permutation");
    EXPECT_NN_ERROR(nn_permute(x3, NN_AXES(0, 1, -4)), "nn_permute", "not a permutation");
    EXPECT_NN_ERROR(nn_permute(x3, 3, NULL), "nn_permute", "'perm' is NULL");
    EXPECT_NN_ERROR(nn_permute(NULL, NN_AXES(0)), "nn_permute", "is NULL");
    nn_tensor_free(x);
    nn_tensor_free(x3);
}

/* With a handler that returns, nn_split and nn_chunk report -1 instead of aborting. */
static int errors_seen;
static void count_errors(const nn_error *err, void *user) {
    (void)err;
    (void)user;
    errors_seen++;
}
static void test_split_returns_minus_one(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 7)), *parts[3];
    errors_seen = 0;
    nn_error_handler prev = nn_set_error_handler(count_errors, NULL);
    assert_int_equal(nn_chunk(x, 1, 3, parts), -1);
    assert_int_equal(nn_split(x, 1, 2, (const int[]){1, 1}, parts), -1);
    assert_null(nn_permute(x, NN_AXES(1, 1)));
    assert_null(nn_concat(0, 1, (nn_tensor *[]){NULL}));
    nn_set_error_handler(prev, NULL);
    assert_int_equal(errors_seen, 4);
    nn_tensor_free(x);
}

/* ---- any number of inputs: a five-input op written with nn_record_n ------------------------
 * y = sum_k w_k x_k + x_0 x_4 over five tensors of one shape
 * dx_k += w_k dy, and the product adds dx_0 += x_4 dy, dx_4 += x_0 dy. */

static const float five_w[5] = {0.5f, -1.0f, 2.0f, 1.5f, -0.25f};

static void five_backward(nn_node *n) {
    const float *g = n->out->grad, *x0 = n->in[0]->data, *x4 = n->in[4]->data;
    for (int k = 0; k < n->nin; k++) {
        nn_tensor *xk = n->in[k];
        if (!xk->requires_grad || !xk->grad) continue;   /* a constant among the inputs */
        for (size_t i = 0; i < n->out->size; i++) {
            float local = five_w[k] + (k == 0 ? x4[i] : k == 4 ? x0[i] : 0.0f);
            xk->grad[i] += g[i] * local;
        }
    }
}

static nn_tensor *five_op(nn_tensor *const *xs) {
    for (int k = 1; k < 5; k++) assert_true(nn_same_shape(xs[k], xs[0]));
    nn_node *node;
    nn_tensor *y = nn_record_n("five_op", five_backward, xs[0]->ndim, xs[0]->shape, 5, xs, &node);
    for (size_t i = 0; i < y->size; i++) {
        float acc = xs[0]->data[i] * xs[4]->data[i];
        for (int k = 0; k < 5; k++) acc += five_w[k] * xs[k]->data[i];
        y->data[i] = acc;
    }
    return y;
}

static nn_tensor *loss_five(nn_tensor **in, void *user) {
    (void)user;
    return weighted(five_op(in), 11);
}

static void test_record_n_five_inputs(void **state) {
    (void)state;
    nn_tensor *in[5];
    for (int k = 0; k < 5; k++) in[k] = input(NN_SHAPE(2, 3));
    nn_tensor *y = five_op(in);
    assert_non_null(y->node);
    assert_int_equal(y->node->nin, 5);                  /* the node keeps all five */
    for (int k = 0; k < 5; k++) assert_ptr_equal(y->node->in[k], in[k]);
    assert_float_equal(y->data[4], 0.5f * in[0]->data[4] - in[1]->data[4] +
                       2.0f * in[2]->data[4] + 1.5f * in[3]->data[4] -
                       0.25f * in[4]->data[4] + in[0]->data[4] * in[4]->data[4], 1e-5);
    nn_graph_clear();
    expect_grads_ok(loss_five, in, 5, NULL);   /* not linear, but quadratic: still exact */

    /* a constant among the five gets nothing; grad mode off records nothing */
    nn_tensor *c = nn_ones(NN_SHAPE(2, 3));
    nn_tensor *mixed[5] = {in[0], in[1], c, in[3], in[4]};
    for (int k = 0; k < 5; k++) nn_zero_grad(in[k]);
    nn_backward(nn_sum(five_op(mixed)));
    assert_null(c->grad);
    assert_float_equal(in[1]->grad[0], -1.0f, 0);
    assert_float_equal(in[3]->grad[5], 1.5f, 0);
    assert_float_equal(in[0]->grad[2], 0.5f + in[4]->data[2], 1e-6);
    nn_set_grad_enabled(false);
    int before = nn_graph_node_count();
    y = five_op(in);
    assert_null(y->node);
    assert_false(y->requires_grad);
    assert_int_equal(nn_graph_node_count(), before);
    nn_set_grad_enabled(true);
    EXPECT_NN_ERROR(nn_record_n("five_op", five_backward, NN_SHAPE(2, 3), 5, NULL, NULL),
                    "five_op", "nin = 5");
    nn_tensor_free(c);
    free_all(in, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_slice_values),
        NN_TEST(test_concat_values),
        NN_TEST(test_stack_values),
        NN_TEST(test_split_values),
        NN_TEST(test_chunk_values),
        NN_TEST(test_permute_values),
        NN_TEST(test_grad_slice),
        NN_TEST(test_grad_concat3_middle_axis),
        NN_TEST(test_grad_concat_64_inputs),
        NN_TEST(test_grad_concat_same_input_twice),
        NN_TEST(test_concat_with_a_constant),
        NN_TEST(test_grad_stack),
        NN_TEST(test_grad_split),
        NN_TEST(test_grad_chunk),
        NN_TEST(test_grad_permute_4d),
        NN_TEST(test_grad_permute_3d),
        NN_TEST(test_slice_errors),
        NN_TEST(test_concat_and_stack_errors),
        NN_TEST(test_split_chunk_permute_errors),
        NN_TEST(test_split_returns_minus_one),
        NN_TEST(test_record_n_five_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
