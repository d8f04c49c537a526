/* nn/data/image.h — images as tensors: load (PNG/JPEG/BMP/...), save as PNG, resize, grey,
 * grids.
 *
 * Loading reads a file from outside, i.e. "bad input" (error kind 2 in nn/core/errors.h): a
 * missing, truncated or corrupt file makes the function return NULL (or -1) and leaves a
 * message in nn_last_error(). Saving writes a temporary file next to the target and renames
 * it, so a crash or a full disk never leaves half a file under the real name. Passing
 * nonsense arguments (a NULL path, a 5-D tensor as an image) is misuse (kind 1).
 * Tensors returned here are OWNED by the caller (free with nn_tensor_free).
 */
#ifndef NN_DATA_IMAGE_H
#define NN_DATA_IMAGE_H

#include "../core/tensor.h"

/* An image is a tensor (C, H, W): C channels (1 grey, 3 RGB; 2 and 4 add alpha), H rows,
 * W columns, values 0 (dark) .. 1 (bright). Functions that take an image also accept (H, W),
 * read as one grey channel. */

/* Load a PNG, JPEG, BMP (also GIF, TGA, PNM, PSD: whatever stb_image reads) as (C, H, W) floats
 * in 0..1 (byte / 255; 16-bit PNG and PNM files: value / 65535). channels: 1 = grey, 3 = RGB, 4
 * = RGBA (converted as needed), 0 = as stored in the file (1, 2, 3 or 4). NULL +
 * nn_last_error() for a missing, empty, truncated or non-image file, and for every other
 * problem with the file (it never aborts): a picture of 0 pixels, a JPEG whose Huffman tables
 * are corrupt, or a picture larger than the limit below. The size is read from the file's
 * header BEFORE anything is decoded, so a small file that claims a huge picture (a
 * "decompression bomb") costs nothing. */
nn_tensor *nn_image_load(const char *path, int channels);

/* The most pixels (width x height) nn_image_load accepts. The default, 64 * 1024 * 1024
 * (8192 x 8192, about 67 megapixels), is far above any photo worth classifying and far
 * below memory trouble; a picture at the limit still takes up to 1 GiB as floats (4 channels
 * x 4 bytes per pixel), plus stb_image's bytes while it decodes. Sets the limit (0 restores
 * the default) and returns the previous one. It is shared by all threads; set it before
 * loading. A refused file's message says its size, the limit and the call that raises it.
 * The limit also caps the file: one larger than 8 bytes a pixel at the limit (16-bit RGBA
 * stored raw) plus 1 MiB, or than 2 GiB, is refused from its size before it is read. */
size_t nn_image_set_max_pixels(size_t max_pixels);

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

#endif
