/* nn/train/augment.h — data augmentation (数据增强): new training samples from the ones you have.
 *
 * Adding noise, flipping, rotating and cropping an image keeps its label but changes its
 * pixels, so a model that sees these variants cannot memorise the exact pixels of each
 * training image: it has to learn what stays the same. (For points, a small random jitter
 * plays the same part.)
 *
 * Shapes: the image functions take one image (C, H, W) or a batch (N, C, H, W); noise and
 * jitter take any shape (e.g. points (N, D)).
 *
 * Ownership: every function reads its input (a tensor you own, a graph tensor or a
 * parameter; it is never changed) and returns a NEW GRAPH tensor, freed with everything else
 * by nn_graph_clear() at the end of the step; nn_clone() it to keep it longer. The result is
 * data, not part of the model: nothing is recorded on the tape and it never requires grad
 * (augmentation is not differentiable here, and need not be).
 *
 * Randomness: the random_* functions, noise and jitter draw from `rng`, or from the global
 * generator when rng is NULL, in a fixed order (image by image), so a seed repeats them
 * exactly. In a batch each image gets its own random flip, angle or shift; all channels of
 * one image move together.
 */
#ifndef NN_TRAIN_AUGMENT_H
#define NN_TRAIN_AUGMENT_H

#include "../core/tensor.h"

/* x + std * N(0, 1), element by element. Any shape. */
nn_tensor *nn_aug_noise(const nn_tensor *x, float std, nn_rng *rng);

/* Point jitter: x + std * N(0, 1), each offset clipped to [-clip, clip] (clip <= 0: no
 * clipping) so no point wanders far. Any shape, e.g. (N, D) points. */
nn_tensor *nn_aug_jitter(const nn_tensor *x, float std, float clip, nn_rng *rng);

/* Mirror left-right (horizontal flip: column j <- W-1-j) or top-bottom (row i <- H-1-i).
 * Flipping twice gives the input back exactly. */
nn_tensor *nn_aug_flip_h(const nn_tensor *x);
nn_tensor *nn_aug_flip_v(const nn_tensor *x);
/* Flip each image left-right with probability p. */
nn_tensor *nn_aug_random_flip_h(const nn_tensor *x, float p, nn_rng *rng);

/* Rotate by k quarter turns counter-clockwise (k may be negative). Exact (no resampling);
 * odd k swaps H and W: (C, H, W) -> (C, W, H). */
nn_tensor *nn_aug_rot90(const nn_tensor *x, int k);

/* Rotate counter-clockwise by `degrees` about the image centre, same shape. Each output pixel
 * takes the bilinear mix of the four source pixels around where it came from; pixels that
 * come from outside the image get `fill`. 0 degrees gives the input back exactly. */
nn_tensor *nn_aug_rotate(const nn_tensor *x, float degrees, float fill);
/* Rotate each image by its own angle, uniform in [-max_degrees, max_degrees]. */
nn_tensor *nn_aug_random_rotate(const nn_tensor *x, float max_degrees, float fill, nn_rng *rng);

/* The h x w window whose top-left pixel is (top, left); it must lie inside the image.
 * (C, H, W) -> (C, h, w). */
nn_tensor *nn_aug_crop(const nn_tensor *x, int top, int left, int h, int w);
/* Random crop with padding (the usual "pad by 4, crop back to size"): each image is shifted
 * by its own dy, dx uniform in [-pad, pad], and the pixels shifted in are 0. Same shape. */
nn_tensor *nn_aug_random_crop(const nn_tensor *x, int pad, nn_rng *rng);

#endif
