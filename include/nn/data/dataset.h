/* nn/data/dataset.h — a data set in memory: seeded shuffling, mini-batches, splits (by count
 * or by fraction). Files into data sets: nn/data/csv.h, nn/data/fashion_mnist.h. */
#ifndef NN_DATA_DATASET_H
#define NN_DATA_DATASET_H

#include "../core/tensor.h"

/* N samples: inputs X (N, ...) and either class labels (classification) or targets
 * Y (N, ...) (regression), or both. The data set owns all of it; `order` is the order in
 * which nn_dataset_batch hands the samples out (0, 1, 2, ... until shuffled). */
typedef struct nn_dataset {
    nn_tensor *X;      /* (N, ...) inputs */
    int *labels;       /* N class indices, or NULL */
    nn_tensor *Y;      /* (N, ...) targets, or NULL */
    int *order;        /* a permutation of 0 .. N-1 */
    int n;             /* N */
    int num_classes;   /* 1 + the largest label (0 without labels) */
} nn_dataset;

/* Fill *ds with COPIES of X (N, ...), labels (N ints, may be NULL) and Y (N, ..., may be
 * NULL). Labels must be >= 0. Returns 0, or -1 after nn_fail on misuse. */
int nn_dataset_init(nn_dataset *ds, const nn_tensor *X, const int *labels, const nn_tensor *Y);

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
