/* src/data/vector_index_impl.h — the inside of an nn_vector_index, shared by the index itself
 * (src/data/vector_index.c) and its file (src/data/vector_index_file.c). Not installed. */
#ifndef NN_DATA_VECTOR_INDEX_IMPL_H
#define NN_DATA_VECTOR_INDEX_IMPL_H

#include "internal.h"
#include "nn/data/vector_index.h"

typedef struct vx_doc {
    char *text;   /* len bytes and a NUL */
    size_t len;
    int tag;
} vx_doc;

struct nn_vector_index {
    int dim;
    int count, cap;   /* entries, and room for entries */
    float *unit;      /* count rows of dim values, each of length 1: one block, scanned in order */
    vx_doc *docs;     /* count documents */
};

/* Append an entry whose vector is already a finite unit vector (so it is stored bit for bit:
 * a loaded file searches exactly as the saved index did) and whose text has been checked.
 * Returns its id. */
int nn_vx_append(nn_vector_index *ix, const float *unit, const char *text, size_t len,
                 int tag);

/* |v|^2 of v[0 .. n), in double: finite for any finite floats (no overflow, no underflow to 0
 * for a nonzero v). */
static inline double nn_vx_norm2(const float *v, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return s;
}

#endif
