/* nn/ops/similarity.h — cosine similarity (余弦相似度) and "the k nearest rows" of a table.
 *
 * The cosine of the angle between two vectors: 1 same direction, 0 orthogonal, -1 opposite.
 * It ignores length, which is why word vectors are compared with it. The eps convention is
 * the one PyTorch's F.cosine_similarity documents today: each norm is clamped on its own,
 *   cos(a, b) = a.b / (max(|a|, eps) * max(|b|, eps))
 * so a zero vector has similarity 0 with everything (never NaN). (Older PyTorch documented
 * max(|a| |b|, eps), as nn.CosineSimilarity's page still does; the two agree unless a norm,
 * or the product of both, is below eps.)
 */
#ifndef NN_OPS_SIMILARITY_H
#define NN_OPS_SIMILARITY_H

#include "../core/tensor.h"

#define NN_COSINE_EPS 1e-8f   /* PyTorch's default eps */

/* Cosine similarity along `axis` (negative counts from the end) of a and b broadcast to a
 * common shape; the axis is dropped: (N, E) and (N, E) -> (N); (1, E) and (V, E) -> (V) (one
 * query against every row). eps > 0. Differentiable in both inputs. */
nn_tensor *nn_cosine_similarity(nn_tensor *a, nn_tensor *b, int axis, float eps);

/* The k rows of table (V, E) most similar to query[E] by cosine similarity (eps
 * NN_COSINE_EPS), best first, the lower id first among equal scores, NaN scores last. Row
 * `exclude` is left out (pass the query's own id; -1: none). Writes ids_out[k] and, unless
 * NULL, scores_out[k]; returns how many it wrote: min(k, rows left), or -1 after misuse.
 * Not differentiable: for looking at a trained embedding. The 5 characters closest to 月:
 *   int id = char_id("月"), ids[5];  float cos[5];
 *   int n = nn_nearest_rows(emb, emb->data + (size_t)id * E, 5, id, ids, cos);   */
int nn_nearest_rows(const nn_tensor *table, const float *query, int k, int exclude,
                    int *ids_out, float *scores_out);

#endif
