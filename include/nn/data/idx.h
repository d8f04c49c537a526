/* nn/data/idx.h — IDX files (MNIST, Fashion-MNIST), plain or gzip'd. Bad files return NULL
 * with a message in nn_last_error(); returned memory is yours. */
#ifndef NN_DATA_IDX_H
#define NN_DATA_IDX_H

#include "../core/tensor.h"

/* The IDX format, big-endian:
 *   bytes 0-1  0x00 0x00
 *   byte  2    type code: 0x08 = unsigned byte (the only type these loaders accept)
 *   byte  3    number of dimensions: 3 for images (N, rows, cols), 1 for labels (N)
 *   then one uint32 per dimension, then the N x rows x cols (or N) bytes, nothing after.
 * Files may be plain or gzip'd (starting with 1f 8b; inflated with zlib). The loaders check
 * the header, refuse a file that is shorter than its header says or has bytes after the data
 * (in a gzip'd file: after the data, or after the end of the gzip stream), and refuse
 * implausible dimensions (each image side 1..65535) before allocating anything large.
 * Damaged compressed data is reported as such, with zlib's words; a file's bytes appear in
 * a message only escaped (\xNN). limit > 0 reads only the first `limit` items (and checks
 * only what it reads); limit <= 0 reads them all. */

/* Images as (N, 1, rows, cols) floats in 0..1 (byte / 255). */
nn_tensor *nn_idx_load_images(const char *path, int limit);

/* The same images as their N x rows x cols bytes (free() them), a quarter of the memory;
 * *count, *rows, *cols receive the sizes (each may be NULL). */
unsigned char *nn_idx_load_image_bytes(const char *path, int limit, int *count, int *rows,
                                       int *cols);

/* Labels as N ints (free() them); *count receives N. */
int *nn_idx_load_labels(const char *path, int limit, int *count);

#endif
