/* nn/io.h — data in and out: images (PNG/JPEG/BMP), IDX files (MNIST / Fashion-MNIST),
 * data sets with seeded shuffling and mini-batches, and model checkpoints.
 *
 * Everything here reads or writes files, i.e. "bad input from outside" (error kind 2 in
 * nn/base.h): a missing, truncated or corrupt file makes the function return NULL (or -1)
 * and leaves a message in nn_last_error() that names the file, what was wrong and what was
 * expected. Nothing crashes on a bad file, and nothing is read past the data it has. Every
 * writer writes a temporary file next to the target and renames it, so a crash or a full
 * disk never leaves half a file under the real name.
 * Passing nonsense arguments (a NULL path, a 5-D tensor as an image) is misuse (kind 1) and
 * goes through nn_fail like any op.
 *
 * Tensors returned here are OWNED by the caller (free with nn_tensor_free), except
 * nn_dataset_batch, which returns a graph tensor like an op does.
 */
#ifndef NN_IO_H
#define NN_IO_H

#include "model.h"

/* ---- images ---------------------------------------------------------------------------- */
/* An image is a tensor (C, H, W): C channels (1 grey, 3 RGB; 2 and 4 add alpha), H rows,
 * W columns, values 0 (dark) .. 1 (bright). Functions that take an image also accept (H, W),
 * read as one grey channel. */

/* Load a PNG, JPEG, BMP (also GIF, TGA, PNM, PSD: whatever stb_image reads) as (C, H, W)
 * floats in 0..1 (byte / 255). channels: 1 = grey, 3 = RGB, 4 = RGBA (converted as needed),
 * 0 = as stored in the file (1, 2, 3 or 4). NULL + nn_last_error() for a missing, empty,
 * truncated or non-image file. */
nn_tensor *nn_image_load(const char *path, int channels);

/* Save an image ((C, H, W) with C = 1..4, or (H, W)) as an 8-bit PNG. Values are clamped to
 * 0..1 (NaN counts as 0) and rounded to the nearest of 256 levels, so a save -> load round
 * trip is exact to 0.5/255. Written to "<path>.tmp.XXXXXX", then renamed onto path.
 * Returns 0, or -1 with nn_last_error() set (e.g. the folder does not exist). */
int nn_image_save_png(const char *path, const nn_tensor *img);

/* For example programs and quick scripts: nn_image_save_png into dir/file (missing folders
 * are made, see nn_out_path), then print "wrote <path>" to stdout, or "could not write
 * <dir>/<file>: <nn_last_error()>" to stderr. Returns 0 or -1. */
int nn_image_save_png_in(const char *dir, const char *file, const nn_tensor *img);

/* Resize to (C, h, w): bilinear (a triangle filter) along an axis that grows, an area
 * average (a box filter) along one that shrinks, so values never leave the input's range.
 * An (H, W) input gives (h, w). */
nn_tensor *nn_image_resize(const nn_tensor *img, int h, int w);

/* Enlarge each pixel to a factor x factor block (nearest neighbour): for looking at small
 * things such as a 3x3 kernel or a 28x28 digit without blurring them. */
nn_tensor *nn_image_scale_nearest(const nn_tensor *img, int factor);

/* Grey version (1, H, W): luma 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601) for 3 or 4
 * channels (alpha ignored); channel 0 for 1 or 2 channels. */
nn_tensor *nn_image_to_grey(const nn_tensor *img);

/* Tile n images into one picture, `cols` per row (cols <= 0: about square), with `pad`
 * white pixels around and between the cells. Each image is stretched to 0..1 on its own
 * ((v - min) / (max - min); a constant image becomes 0.5), which shows conv kernels with
 * negative weights. All images need the same channel count; sizes may differ (each cell is
 * as large as the largest image, images sit at the cell's top left). Result (C, H, W). */
nn_tensor *nn_image_grid(const nn_tensor *const *images, int n, int cols, int pad);

/* ---- IDX files (MNIST, Fashion-MNIST) ---------------------------------------------------- */
/* The IDX format, big-endian:
 *   bytes 0-1  0x00 0x00
 *   byte  2    type code: 0x08 = unsigned byte (the only type these loaders accept)
 *   byte  3    number of dimensions: 3 for images (N, rows, cols), 1 for labels (N)
 *   then one uint32 per dimension, then the N x rows x cols (or N) bytes, nothing after.
 * Files may be plain or gzip'd (zlib reads both). The loaders check the header, refuse a
 * file that is shorter than its header says (or has bytes after the data), and refuse
 * implausible dimensions (each image side 1..65535) before allocating anything large.
 * limit > 0 reads only the first `limit` items (and checks only what it reads); limit <= 0
 * reads them all. */

/* Images as (N, 1, rows, cols) floats in 0..1 (byte / 255). */
nn_tensor *nn_idx_load_images(const char *path, int limit);

/* Labels as N ints (free() them); *count receives N. */
int *nn_idx_load_labels(const char *path, int limit, int *count);

/* ---- data sets and mini-batches ------------------------------------------------------- */

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

/* ---- Fashion-MNIST ------------------------------------------------------------------- */

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

/* The 10 class names, by label: "T-shirt/top", "Trouser", ... and "T恤/上衣", "裤子", ... */
extern const char *const nn_fashion_mnist_classes[10];
extern const char *const nn_fashion_mnist_classes_zh[10];

/* ---- checkpoints ------------------------------------------------------------------------ */
/* A checkpoint holds every parameter of a model: its name, shape and values. Format
 * (version 1; all integers uint32 little-endian, docs/en/checkpoint-format.md):
 *
 *   "NNCK"             4 bytes, the magic
 *   version            1
 *   count              number of parameters
 *   count times:       name length L, L bytes of name (UTF-8, no NUL),
 *                      ndim (0..4), ndim sizes, size float32 values (little-endian)
 *   crc                CRC-32 (zlib's crc32) of every byte before it
 *
 * Saving writes "<path>.tmp.XXXXXX" in the same folder, fsyncs it and renames it onto path,
 * so a crash leaves the old checkpoint or the new one, never a broken one. */

/* Save every parameter of m. Returns 0, or -1 with nn_last_error() set. */
int nn_model_save(const nn_model *m, const char *path);

/* Load into an already-built model of the same architecture: the same parameter names with
 * the same shapes (in any order). The whole file is read and checked first (magic, version,
 * checksum, structure, names, shapes); only then are values copied, so on failure (-1,
 * nn_last_error() names the file and the first problem) the model is untouched. Gradients
 * are not touched. */
int nn_model_load(nn_model *m, const char *path);

#define nn_image_load(...) NN_AT(nn_image_load(__VA_ARGS__))
#define nn_image_save_png(...) NN_AT(nn_image_save_png(__VA_ARGS__))
#define nn_image_save_png_in(...) NN_AT(nn_image_save_png_in(__VA_ARGS__))
#define nn_image_resize(...) NN_AT(nn_image_resize(__VA_ARGS__))
#define nn_image_scale_nearest(...) NN_AT(nn_image_scale_nearest(__VA_ARGS__))
#define nn_image_to_grey(...) NN_AT(nn_image_to_grey(__VA_ARGS__))
#define nn_image_grid(...) NN_AT(nn_image_grid(__VA_ARGS__))
#define nn_dataset_init(...) NN_AT(nn_dataset_init(__VA_ARGS__))
#define nn_dataset_batch(...) NN_AT(nn_dataset_batch(__VA_ARGS__))
#define nn_dataset_batch_targets(...) NN_AT(nn_dataset_batch_targets(__VA_ARGS__))
#define nn_dataset_split(...) NN_AT(nn_dataset_split(__VA_ARGS__))

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_idx_load_images(...) NN_AT(nn_idx_load_images(__VA_ARGS__))
#define nn_idx_load_labels(...) NN_AT(nn_idx_load_labels(__VA_ARGS__))
#define nn_fashion_mnist_load(...) NN_AT(nn_fashion_mnist_load(__VA_ARGS__))
#define nn_model_save(...) NN_AT(nn_model_save(__VA_ARGS__))
#define nn_model_load(...) NN_AT(nn_model_load(__VA_ARGS__))
#define nn_dataset_shuffle(...) NN_AT(nn_dataset_shuffle(__VA_ARGS__))

#endif
