/* src/data/dataset.c — a data set in memory, shuffled with the seeded generator and handed out in
 * mini-batches (see include/nn/data/dataset.h).
 *
 * Shuffling never moves the data: it permutes a small index array `order`, and a batch
 * gathers its rows through that array with nn_take_rows (the same gather an embedding
 * lookup uses). The batch is a graph tensor, so nn_graph_clear() at the end of the training
 * step frees it with everything else: a training loop allocates nothing it must free.
 *
 *   order = [0 1 2 3 4 5]  --shuffle-->  [4 0 5 2 1 3]
 *   batch(start 2, count 3) = X rows [5 2 1]
 *
 * A data set of pictures may keep them as bytes (a quarter of the memory); then the gather
 * also converts: the batch holds byte / byte_divisor, in a graph tensor all the same.
 */
#include "internal.h"
#include "nn/ops/shape.h"
#include "nn/data/dataset.h"

static bool has_inputs(const nn_dataset *ds) { return ds && (ds->X || ds->bytes) && ds->order; }

/* The inputs' shape as text, "(N, 1, 28, 28)", for messages: for either kind. */
static nn_shape_buf x_shape(const nn_dataset *ds) {
    if (ds->X) return nn_shape_of(ds->X);   /* (also a data set filled by hand) */
    nn_tensor probe = {0};
    nn_set_shape(&probe, ds->x_ndim, ds->x_shape);
    return nn_shape_of(&probe);
}

/* Numbers in one sample: the product of the shape after N. */
static size_t sample_size(const nn_dataset *ds) {
    if (ds->X) return ds->X->size / (size_t)ds->X->shape[0];
    size_t n = 1;
    for (int d = 1; d < ds->x_ndim; d++) n *= (size_t)ds->x_shape[d];
    return n;
}

/* The input of each of the 256 byte values: one division each, then a table lookup per
 * pixel (the same numbers as nn_idx_load_images's byte / 255.0f). */
static void byte_values(const nn_dataset *ds, float value[256]) {
    for (int v = 0; v < 256; v++) value[v] = (float)v / ds->byte_divisor;
}

/* Check the batch arguments; returns the count cut at N, or -1 after nn_fail. */
static int batch_count(const char *op, const nn_dataset *ds, int start, int count) {
    if (!has_inputs(ds)) {
        nn_fail(op, "fill the data set first (nn_dataset_init, nn_fashion_mnist_load)",
                "the data set is %s", ds ? "empty" : "NULL");
        return -1;
    }
    if (start < 0 || start >= ds->n || count < 1) {
        nn_fail(op, "start must be in 0 .. N-1 and count >= 1; loop while start < ds.n",
                "start = %d, count = %d for a data set of N = %d", start, count, ds->n);
        return -1;
    }
    return count < ds->n - start ? count : ds->n - start;
}

/* The largest label (-1 when there are none), or -2 after nn_fail on a negative one. */
static int check_labels(const char *op, const int *labels, int n) {
    int most = -1;
    for (int i = 0; labels && i < n; i++) {
        if (labels[i] < 0) {
            nn_fail(op, "class labels are 0, 1, 2, ...", "labels[%d] = %d", i, labels[i]);
            return -2;
        }
        if (labels[i] > most) most = labels[i];
    }
    return most;
}

/* Copies the labels (if any) and starts `order` at 0, 1, 2, ...: the part both inits share. */
static void set_labels_and_order(nn_dataset *ds, const int *labels, int most) {
    int n = ds->n;
    if (labels) {
        ds->labels = nn_xmalloc((size_t)n * sizeof(int));
        memcpy(ds->labels, labels, (size_t)n * sizeof(int));
        ds->num_classes = most + 1;
    }
    ds->order = nn_xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) ds->order[i] = i;
}

int nn_dataset_init(nn_dataset *ds, const nn_tensor *X, const int *labels, const nn_tensor *Y) {
    const char *op = "nn_dataset_init";
    if (!ds || !X) {
        nn_fail(op, "pass a data set to fill and the inputs X (N, ...)", "%s is NULL",
                !ds ? "ds" : "X");
        return -1;
    }
    if (!nn_require_live(X, op, "X") || (Y && !nn_require_live(Y, op, "Y"))) return -1;
    if (X->ndim < 1) {
        nn_fail(op, "X needs a first dimension that counts the samples", "X has shape %s",
                SHAPE(X));
        return -1;
    }
    int n = X->shape[0];
    if (Y && (Y->ndim < 1 || Y->shape[0] != n)) {
        nn_fail(op, "Y needs one row per sample of X", "X has shape %s but Y has shape %s",
                SHAPE(X), SHAPE(Y));
        return -1;
    }
    int most = check_labels(op, labels, n);
    if (most < -1) return -1;
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->X = nn_clone(X);
    ds->x_ndim = X->ndim;
    memcpy(ds->x_shape, X->shape, sizeof ds->x_shape);
    ds->Y = Y ? nn_clone(Y) : NULL;
    set_labels_and_order(ds, labels, most);
    return 0;
}

int nn_dataset_init_bytes(nn_dataset *ds, const unsigned char *bytes, int x_ndim,
                          const int *x_shape, float divisor, const int *labels) {
    const char *op = "nn_dataset_init_bytes";
    if (!ds || !bytes || !x_shape) {
        nn_fail(op, "pass a data set to fill, the bytes and their shape (N, ...)", "%s is NULL",
                !ds ? "ds" : !bytes ? "bytes" : "x_shape");
        return -1;
    }
    if (x_ndim < 1 || x_ndim > NN_MAX_DIMS) {
        nn_fail(op, "the shape needs a first dimension that counts the samples",
                "x_ndim = %d (1 .. %d)", x_ndim, NN_MAX_DIMS);
        return -1;
    }
    for (int d = 0; d < x_ndim; d++)
        if (x_shape[d] < 1) {
            nn_fail(op, "every dimension is 1 or more", "x_shape[%d] = %d", d, x_shape[d]);
            return -1;
        }
    if (!(isfinite(divisor) && divisor != 0.0f)) {
        nn_fail(op, "pass what a byte is divided by, e.g. 255.0f for inputs in 0 .. 1",
                "divisor = %g", (double)divisor);
        return -1;
    }
    int n = x_shape[0], most = check_labels(op, labels, n);
    if (most < -1) return -1;
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->x_ndim = x_ndim;
    memcpy(ds->x_shape, x_shape, sizeof(int) * (size_t)x_ndim);
    ds->byte_divisor = divisor;
    size_t total = (size_t)n * sample_size(ds);
    ds->bytes = nn_xmalloc(total);
    memcpy(ds->bytes, bytes, total);
    set_labels_and_order(ds, labels, most);
    return 0;
}

int nn_dataset_sample(const nn_dataset *ds, int i, float *out) {
    if (!has_inputs(ds) || !out || i < 0 || i >= ds->n) {
        nn_fail("nn_dataset_sample", "pass a filled data set, 0 <= i < N, and room for one "
                "sample", "i = %d, N = %d%s", i, ds ? ds->n : 0, !out ? ", out is NULL" : "");
        return -1;
    }
    size_t row = sample_size(ds);
    if (ds->X) {
        memcpy(out, ds->X->data + (size_t)i * row, row * sizeof(float));
    } else {
        float value[256];
        byte_values(ds, value);
        const unsigned char *b = ds->bytes + (size_t)i * row;
        for (size_t k = 0; k < row; k++) out[k] = value[b[k]];
    }
    return 0;
}

void nn_dataset_free(nn_dataset *ds) {
    if (!ds) return;
    nn_tensor_free(ds->X);
    free(ds->bytes);
    nn_tensor_free(ds->Y);
    free(ds->labels);
    free(ds->order);
    memset(ds, 0, sizeof *ds);
}

void nn_dataset_shuffle(nn_dataset *ds, nn_rng *rng) {
    if (!ds || !ds->order) {
        nn_fail("nn_dataset_shuffle", "fill the data set first", "the data set is %s",
                ds ? "empty" : "NULL");
        return;
    }
    /* Start from 0, 1, 2, ... so the result depends on the generator alone. */
    for (int i = 0; i < ds->n; i++) ds->order[i] = i;
    nn_rng_shuffle(rng ? rng : nn_global_rng(), ds->order, ds->n);
}

nn_tensor *nn_dataset_batch(const nn_dataset *ds, int start, int count, int *labels_out) {
    count = batch_count("nn_dataset_batch", ds, start, count);
    if (count < 0) return NULL;
    const int *idx = ds->order + start;
    if (labels_out) {
        if (!ds->labels) {
            nn_fail("nn_dataset_batch", "pass NULL for labels_out, or use "
                    "nn_dataset_batch_targets for a data set with targets Y",
                    "this data set (X %s) has no labels", x_shape(ds).s);
            return NULL;
        }
        for (int r = 0; r < count; r++) labels_out[r] = ds->labels[idx[r]];
    }
    if (ds->X) return nn_take_rows(ds->X, idx, count); /* x: (count, ...) in the graph */
    /* bytes: gather and convert in one pass, into a graph tensor like any batch */
    int shape[NN_MAX_DIMS];
    memcpy(shape, ds->x_shape, sizeof shape);
    shape[0] = count;
    nn_tensor *x = nn_graph_tensor(ds->x_ndim, shape, false);
    size_t row = sample_size(ds);
    float divisor = ds->byte_divisor;
    /* rows on the threads: the reads are scattered over the data set (tens of megabytes), so
     * even a batch of 64 pictures (50,000 bytes) is worth sharing */
#pragma omp parallel for schedule(static) if ((long)count * (long)row > PARALLEL_MIN_STREAM)
    for (int r = 0; r < count; r++) {
        /* byte_values' v / divisor, computed rather than looked up: the same floats, but a
         * loop the compiler vectorises (a table lookup per byte would be a gather) */
        const unsigned char *restrict b = ds->bytes + (size_t)idx[r] * row;
        float *restrict dst = x->data + (size_t)r * row;
        for (size_t k = 0; k < row; k++) dst[k] = (float)b[k] / divisor;
    }
    return x;
}

nn_tensor *nn_dataset_batch_targets(const nn_dataset *ds, int start, int count) {
    count = batch_count("nn_dataset_batch_targets", ds, start, count);
    if (count < 0) return NULL;
    if (!ds->Y) {
        nn_fail("nn_dataset_batch_targets", "use the labels from nn_dataset_batch instead",
                "this data set (X %s) has no targets Y", x_shape(ds).s);
        return NULL;
    }
    return nn_take_rows(ds->Y, ds->order + start, count);
}

/* A copy of rows idx[0 .. k) of t (owned). */
static nn_tensor *copy_rows(const nn_tensor *t, const int *idx, int k) {
    int shape[NN_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[0] = k;
    nn_tensor *out = nn_zeros(t->ndim, shape);
    size_t row = t->size / (size_t)t->shape[0];
    for (int r = 0; r < k; r++)
        memcpy(out->data + (size_t)r * row, t->data + (size_t)idx[r] * row, row * sizeof(float));
    return out;
}

/* *out = the samples idx[0 .. k) of src, in that order. */
static void subset(const nn_dataset *src, const int *idx, int k, nn_dataset *out) {
    memset(out, 0, sizeof *out);
    out->n = k;
    out->num_classes = src->num_classes;
    out->x_ndim = src->x_ndim;
    memcpy(out->x_shape, src->x_shape, sizeof out->x_shape);
    out->x_shape[0] = k;
    out->byte_divisor = src->byte_divisor;
    if (src->X) {
        out->X = copy_rows(src->X, idx, k);
    } else {
        size_t row = sample_size(src);
        out->bytes = nn_xmalloc((size_t)k * row);
        for (int r = 0; r < k; r++)
            memcpy(out->bytes + (size_t)r * row, src->bytes + (size_t)idx[r] * row, row);
    }
    out->Y = src->Y ? copy_rows(src->Y, idx, k) : NULL;
    if (src->labels) {
        out->labels = nn_xmalloc((size_t)k * sizeof(int));
        for (int r = 0; r < k; r++) out->labels[r] = src->labels[idx[r]];
    }
    out->order = nn_xmalloc((size_t)k * sizeof(int));
    for (int r = 0; r < k; r++) out->order[r] = r;
}

int nn_dataset_split(const nn_dataset *src, int n_val, nn_dataset *train, nn_dataset *val) {
    const char *op = "nn_dataset_split";
    if (!has_inputs(src) || !train || !val) {
        nn_fail(op, "pass a filled data set and two data sets to fill", "an argument is %s",
                src && !has_inputs(src) ? "an empty data set" : "NULL");
        return -1;
    }
    if (train == val || train == src || val == src) {
        nn_fail(op, "train and val must be two new data sets, both different from src",
                "the same data set was passed twice");
        return -1;
    }
    if (n_val < 1 || n_val >= src->n) {
        nn_fail(op, "keep at least one sample on each side: 0 < n_val < N",
                "n_val = %d for a data set of N = %d", n_val, src->n);
        return -1;
    }
    int n_train = src->n - n_val;
    subset(src, src->order, n_train, train);
    subset(src, src->order + n_train, n_val, val);
    return 0;
}

int nn_dataset_split_fraction(const nn_dataset *src, double val_fraction, nn_dataset *train,
                              nn_dataset *val) {
    const char *op = "nn_dataset_split_fraction";
    if (!has_inputs(src) || !train || !val) {
        nn_fail(op, "pass a filled data set and two data sets to fill", "an argument is %s",
                src && !has_inputs(src) ? "an empty data set" : "NULL");
        return -1;
    }
    if (train == val || train == src || val == src) {
        nn_fail(op, "train and val must be two new data sets, both different from src",
                "the same data set was passed twice");
        return -1;
    }
    if (!(val_fraction > 0.0 && val_fraction < 1.0)) { /* (NaN fails both) */
        nn_fail(op, "pass the share of samples for validation, between 0 and 1: 0.2 keeps a "
                "fifth apart", "val_fraction = %g", val_fraction);
        return -1;
    }
    if (src->n < 2) {
        nn_fail(op, "a split needs at least one sample on each side",
                "a data set of N = %d cannot be split", src->n);
        return -1;
    }
    /* halves up; the 1e-9 keeps 0.35 * 10 = 3.4999999999999996 from rounding down */
    double want = floor(val_fraction * src->n + 0.5 + 1e-9);
    int n_val = want < 1 ? 1 : want > src->n - 1 ? src->n - 1 : (int)want;
    return nn_dataset_split(src, n_val, train, val);
}
