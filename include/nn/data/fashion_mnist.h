/* nn/data/fashion_mnist.h — the Fashion-MNIST data set (Debian's dataset-fashion-mnist). */
#ifndef NN_DATA_FASHION_MNIST_H
#define NN_DATA_FASHION_MNIST_H

#include "dataset.h"

/* Where Debian's dataset-fashion-mnist package puts the files. */
#define NN_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Load Fashion-MNIST (60000 training and 10000 test images of 28x28, 10 classes) from dir:
 * train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],
 * t10k-labels-idx1-ubyte[.gz]. dir NULL = $NN_FASHION_MNIST_DIR if set, else
 * NN_FASHION_MNIST_DIR. X is (N, 1, 28, 28) in 0..1, labels 0..9. A limit > 0 loads only
 * the first `limit` samples of that split. train or test may be NULL to skip it.
 * Returns 0, or -1 with nn_last_error() set (and nothing allocated). */
int nn_fashion_mnist_load(const char *dir, nn_dataset *train, nn_dataset *test, int train_limit,
                          int test_limit);

/* The same, with the pictures kept as their bytes (X NULL, ds.bytes, byte_divisor 255; see
 * nn/data/dataset.h): 47 MB for the training set instead of 188 MB. Batches come out the
 * same, as floats in 0..1. */
int nn_fashion_mnist_load_bytes(const char *dir, nn_dataset *train, nn_dataset *test,
                                int train_limit, int test_limit);

/* The 10 class names, by label: "T-shirt/top", "Trouser", ... and "T恤/上衣", "裤子", ... */
extern const char *const nn_fashion_mnist_classes[10];
extern const char *const nn_fashion_mnist_classes_zh[10];

#endif
