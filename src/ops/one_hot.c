/* src/ops/one_hot.c — one-hot rows from token ids: a constant, so nothing to differentiate. */
#include "internal.h"
#include "nn/ops/one_hot.h"

/* ids (n) -> (n, depth): y[r, c] = 1 if c == ids[r] else 0 */
nn_tensor *nn_one_hot(const int *ids, int n, int depth) {
    NN_REQUIRE(ids, "nn_one_hot");
    if (n < 1 || depth < 1) {
        nn_fail("nn_one_hot", "pass n >= 1 ids and depth >= 1 classes (the vocabulary size)",
                "n = %d, depth = %d", n, depth);
        return NULL;
    }
    for (int r = 0; r < n; r++)
        if (ids[r] < 0 || ids[r] >= depth) {
            nn_fail("nn_one_hot", "every id must be in 0 .. depth-1",
                    "ids[%d] = %d is out of range for depth = %d", r, ids[r], depth);
            return NULL;
        }
    nn_tensor *out = nn_graph_tensor(2, (const int[]){n, depth}, false);   /* zeroed */
    for (int r = 0; r < n; r++) out->data[(size_t)r * (size_t)depth + (size_t)ids[r]] = 1.0f;
    return out;
}
