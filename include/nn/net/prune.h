/* nn/net/prune.h — magnitude pruning (剪枝): set the smallest weights to zero and keep them there.
 *
 * A trained network has many weights close to 0 that add little to its outputs. Magnitude
 * pruning (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural
 * Networks") removes the fraction s (the sparsity) with the smallest |w|:
 *   mask_i = 0 for the round(s * n) weights of smallest |w_i|, 1 for the rest;   w <- w * mask
 * then retrains the network with the mask held, so the weights that are left make up for the
 * ones that are gone. Only weight tensors are pruned (model->decay marks them; biases are few
 * and cheap), optionally only those whose name starts with a prefix.
 *
 * Ties: weights are ranked by |w|, and among equal |w| by their place in the model's parameter
 * block (the lower one is pruned first), so exactly round(s * n) are pruned, the same ones
 * every time. Weights that are already 0 rank first: pruning a pruned model again at a higher
 * sparsity keeps the old zeros.
 *
 * Per layer or global:
 *   NN_PRUNE_LAYER   every chosen tensor loses the same fraction s (its own threshold). No layer
 *                    can be emptied, and the small last layer keeps as many weights as a big one
 *                    in proportion. The default choice: predictable, and what the tables show.
 *   NN_PRUNE_GLOBAL  one threshold on |w| over all chosen tensors together: layers whose weights
 *                    are small (big fan-in, so a small initial scale) lose more, small layers with
 *                    large weights less. Often better at high sparsity, but a layer can lose
 *                    nearly all of its weights.
 *
 * Keeping pruned weights at exactly 0 while retraining: their gradients are NOT zero (the loss
 * would change if they came back), so an optimizer step moves them. Masking the gradient is not
 * enough either: SGD's momentum and Adam's moments m, v remember earlier gradients, and Adam's
 * step m / (sqrt(v) + eps) moves a weight whose gradient is now 0. What is needed, and enough,
 * whatever the optimizer: put the zeros back after EVERY step,
 *     nn_optim_step(opt);
 *     nn_prune_apply(mask);      // pruned weights = 0 again before the next forward
 * (tests/test_prune.c checks this with SGD, SGD + momentum, Adam and AdamW, and shows the two
 * shortcuts failing.) The optimizer's moments for pruned weights keep changing, unused: they
 * never reach a forward pass.
 */
#ifndef NN_NET_PRUNE_H
#define NN_NET_PRUNE_H

#include "../core/model.h"

typedef enum nn_prune_scope { NN_PRUNE_LAYER, NN_PRUNE_GLOBAL } nn_prune_scope;

typedef struct nn_prune_mask {
    nn_model *model;
    size_t count;          /* model->count when the mask was made (the model must not grow) */
    unsigned char *keep;   /* one per model float: 1 kept, 0 pruned (1 outside chosen tensors) */
    bool *chosen;          /* one per parameter: a tensor the mask applies to */
    size_t total;          /* floats in the chosen tensors */
    size_t kept;           /* of those, the ones kept: total - round(s * total) (s per layer:
                              summed over the tensors) */
} nn_prune_mask;

/* Prune the weight tensors of m whose name starts with prefix (NULL or "": all weights) at
 * sparsity s in [0, 1]: sets the pruned weights to 0 now and returns the mask (free it with
 * nn_prune_free). NULL after misuse: s outside [0, 1], no weight tensor matching prefix, a
 * weight that is NaN or infinite (its rank would mean nothing). */
nn_prune_mask *nn_prune_magnitude(nn_model *m, const char *prefix, float sparsity,
                                  nn_prune_scope scope);
/* Pruned weights = 0 again (exactly 0, whatever they held). Call after every nn_optim_step. */
void nn_prune_apply(const nn_prune_mask *mask);
/* Floats kept in the chosen tensors (mask->kept); of one of them when param is given. */
size_t nn_prune_kept(const nn_prune_mask *mask, const nn_tensor *param);
void nn_prune_free(nn_prune_mask *mask);   /* NULL is fine */

#endif
