/* nn/data/dataset.h — a data set in memory: seeded shuffling, mini-batches, splits (by count
 * or by fraction). Files into data sets: nn/data/csv.h, nn/data/fashion_mnist.h. */
#ifndef NN_DATA_DATASET_H
#define NN_DATA_DATASET_H

#include "../core/tensor.h"

/* N samples: inputs X (N, ...) and either class labels (classification) or targets
 * Y (N, ...) (regression), or both. The data set owns all of it; `order` is the order in
 * which nn_dataset_batch hands the samples out (0, 1, 2, ... until shuffled).
 *
 * Pictures may be kept as their bytes instead (nn_dataset_init_bytes,
 * nn_fashion_mnist_load_bytes): a quarter of the memory of floats (Fashion-MNIST's 60,000
 * training images: 47 MB instead of 188 MB). Then X is NULL, `bytes` holds the N samples
 * with the shape in x_shape, and each batch is converted to floats (byte / byte_divisor) when
 * nn_dataset_batch makes it. Every function here works with both kinds. */
typedef struct nn_dataset {
    nn_tensor *X;      /* (N, ...) inputs as floats, or NULL when kept as bytes */
    unsigned char *bytes;        /* (N, ...) inputs as bytes, or NULL */
    float byte_divisor;          /* an input is byte / byte_divisor (255: 0 .. 1) */
    int x_ndim;                  /* the shape of the inputs (N, ...), for both kinds */
    int x_shape[NN_MAX_DIMS];
    int *labels;       /* N class indices, or NULL */
    nn_tensor *Y;      /* (N, ...) targets, or NULL */
    int *order;        /* a permutation of 0 .. N-1 */
    int n;             /* N */
    int num_classes;   /* 1 + the largest label (0 without labels) */
} nn_dataset;

/* Fill *ds with COPIES of X (N, ...), labels (N ints, may be NULL) and Y (N, ..., may be
 * NULL). Labels must be >= 0. Returns 0, or -1 after nn_fail on misuse. */
int nn_dataset_init(nn_dataset *ds, const nn_tensor *X, const int *labels, const nn_tensor *Y);

/* The same from N samples of bytes (copied), shape (N, ...) with x_ndim dims: input =
 * byte / divisor (255 for 0 .. 1; a division, so that the numbers are exactly those of
 * nn_idx_load_images). Labels as in nn_dataset_init (NULL for none). Returns 0, or -1 after
 * nn_fail. */
int nn_dataset_init_bytes(nn_dataset *ds, const unsigned char *bytes, int x_ndim,
                          const int *x_shape, float divisor, const int *labels);

/* Sample i (0 .. N-1, in storage order, not `order`) as floats into out (size of one
 * sample): for either kind. Returns 0, or -1 after nn_fail. */
int nn_dataset_sample(const nn_dataset *ds, int i, float *out);

/* Free what the data set holds and zero *ds (the struct itself is yours). NULL is fine. */
void nn_dataset_free(nn_dataset *ds);

/* A new random order of the samples (rng NULL = the global generator). The order depends
 * only on the generator's state, not on earlier shuffles: same seed, same order. */
void nn_dataset_shuffle(nn_dataset *ds, nn_rng *rng);

/* Samples order[start .. start+count) as a GRAPH tensor (count, ...) (freed by
 * nn_graph_clear, like any op's result); their labels go to labels_out[0 .. count) when
 * labels_out is not NULL. The last batch may be short: count is cut at N, so the batch size
 * is the result's shape[0]. start must be in 0 .. N-1.
 *   for (int s = 0; s < ds.n; s += 64) {
 *       int y[64];
 *       nn_tensor *x = nn_dataset_batch(&ds, s, 64, y);   // x->shape[0] rows, y[0..) */
nn_tensor *nn_dataset_batch(const nn_dataset *ds, int start, int count, int *labels_out);

/* The targets Y of the same samples as nn_dataset_batch(ds, start, count, ...). */
nn_tensor *nn_dataset_batch_targets(const nn_dataset *ds, int start, int count);

/* Split src in its current order: the first N - n_val samples become *train, the last n_val
 * become *val (both new data sets, copies; src is unchanged). Shuffle first for a random
 * split. 0 < n_val < N. Returns 0, or -1 after nn_fail. */
int nn_dataset_split(const nn_dataset *src, int n_val, nn_dataset *train, nn_dataset *val);

/* The same split with the validation part given as a fraction of N, 0 < val_fraction < 1:
 * n_val = val_fraction * N rounded to the nearest whole number, halves up (0.25 of 10 -> 3,
 * 0.2 of 10 -> 2), then kept within 1 .. N-1 so that each side has at least one sample
 * (0.01 of 10 -> 1). N must be at least 2. Returns 0, or -1 after nn_fail. */
int nn_dataset_split_fraction(const nn_dataset *src, double val_fraction, nn_dataset *train,
                              nn_dataset *val);

#endif
