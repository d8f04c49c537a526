/* nn/viz/heatmap.h — a matrix as a coloured picture (attention weights, position tables).
 *
 *   nn_tensor *img = nn_heatmap(weights, 0.0f, 1.0f);          // (T, T) -> (3, T, T)
 *   nn_tensor *big = nn_image_scale_nearest(img, 16);          // 16 x 16 pixels per cell
 *   nn_image_save_png_in("out", "attention.png", big);
 */
#ifndef NN_VIZ_HEATMAP_H
#define NN_VIZ_HEATMAP_H

#include "../core/tensor.h"

/* m (H, W) -> an RGB image (3, H, W) that you own (nn_tensor_free). Values are clamped to
 * [lo, hi] (lo < hi, both finite). When lo < 0 < hi the colours diverge around 0: blue for
 * lo, white for 0, red for hi (a table of signs, like the sinusoidal encoding); otherwise
 * they run from white (lo) through orange to dark red (hi) (weights, probabilities). A NaN
 * is drawn black. NULL with an error on a bad shape or range. */
nn_tensor *nn_heatmap(const nn_tensor *m, float lo, float hi);

#endif
