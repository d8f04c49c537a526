/* src/core/alloc.c — allocation that never returns NULL: out of memory is reported, then abort. */
#include "internal.h"
#include <stdio.h>

void *nn_xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "nn: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    return p;
}

void *nn_xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "nn: out of memory allocating %zu x %zu bytes\n", count, size);
        abort();
    }
    return p;
}

void *nn_xrealloc(void *p, size_t bytes) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fprintf(stderr, "nn: out of memory reallocating %zu bytes\n", bytes);
        abort();
    }
    return q;
}
