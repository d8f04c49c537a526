/* src/internal.h — helpers shared by the library's sources (not installed). */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

/* Every source sees the core (errors, random numbers, tensors, the graph, models); each
 * includes the headers of the other areas it uses, so its includes show what it builds on. */
#include "nn/core/errors.h"
#include "nn/core/rng.h"
#include "nn/core/clock.h"
#include "nn/core/tensor.h"
#include "nn/core/graph.h"
#include "nn/core/model.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NN_OWNER_USER = 0, NN_OWNER_GRAPH = 1, NN_OWNER_MODEL = 2 };

/* The number of elements of an array (not a pointer). */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "(2, 3)" of a tensor into a small stack buffer, for error messages. */
typedef struct { char s[64]; } nn_shape_buf;
static inline nn_shape_buf nn_shape_of(const nn_tensor *t) {
    nn_shape_buf b;
    nn_shape_str(t, b.s, sizeof b.s);
    return b;
}
#define SHAPE(t) (nn_shape_of(t).s)

/* Every op starts by rejecting NULL inputs: a NULL usually means an earlier error was
 * caught by a handler that returned, so say that rather than crash. When x is a tensor, it
 * must also still exist: a graph tensor used after nn_graph_clear() (or after a rewind past
 * it) is refused with a message, instead of silently reading memory that now holds other
 * tensors (see nn_graph_is_live in src/core/graph.c). NN_AS_TENSOR picks x when it is a
 * tensor pointer and NULL otherwise (a model, a label array), so one macro serves both. */
#define NN_AS_TENSOR(x) \
    _Generic((x), nn_tensor *: (x), const nn_tensor *: (x), default: (const nn_tensor *)0)
#define NN_REQUIRE_OR(x, op, ret)                                                         \
    do {                                                                                  \
        if (!(x)) {                                                                       \
            nn_fail(op, "an earlier call probably failed and returned NULL",              \
                    "input '%s' is NULL", #x);                                            \
            return ret;                                                                   \
        }                                                                                 \
        if (!nn_require_live(NN_AS_TENSOR(x), op, #x)) return ret;                        \
    } while (0)
#define NN_REQUIRE(x, op) NN_REQUIRE_OR(x, op, NULL)

/* ---- graph tensors that no longer exist (src/core/graph.c) ------------------------------
 * Each graph tensor is stamped with the generation of the arena that made it. nn_graph_clear
 * and nn_graph_release start a new generation; a mark starts one too, for what comes after
 * it, and a rewind to the mark replaces that one. A tensor is live when its generation is
 * one of those still standing (the clear's and one per live mark: at most 65, usually 1). */
bool nn_graph_is_live(const nn_tensor *t);   /* true for NULL, owned and model tensors */
/* t NULL or live: true. Stale: reports misuse for `op` ("input 'what' ...") and returns false. */
bool nn_graph_check_live(const nn_tensor *t, const char *op, const char *what);
static inline bool nn_require_live(const nn_tensor *t, const char *op, const char *what) {
    return !t || nn_graph_check_live(t, op, what);
}

/* AddressSanitizer builds (make SANITIZE=1): the arena poisons what it releases. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(NN_ASAN)
#define NN_ASAN 1
#endif

/* ---- warnings (src/core/errors.c) -----------------------------------------------------------
 * A warning is not an error: the program goes on. nn_warn prints "nn warning: <what>", the
 * caller's file:line and the hint to stderr (unless nn_set_warnings(false)) and keeps the text
 * for nn_last_warning(). Each warning is issued once (its caller keeps the flag). */
void nn_warn(const char *hint, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Per-parameter gradient bookkeeping (nn_tensor.grad_state): nn_optim_step marks the
 * gradients it used STEPPED; nn_model_zero_grad / nn_zero_grad clear the marks. nn_backward
 * finding a STEPPED gradient that is not zero marks it PILED (and warns once per model):
 * the last step's gradient is still there and this backward adds to it. nn_diagnose reports
 * PILED parameters. */
enum { NN_GRAD_STEPPED = 1, NN_GRAD_PILED = 2, NN_GRAD_UNSET = 4 };

/* Gradients of recorded tensors (src/core/graph.c, nn_backward): each starts a backward
 * pass UNSET, its memory not yet written, and is zeroed just before the first backward that
 * adds to it, or, for a node with sets_grads, written by that backward in full. Such a
 * backward asks, for each input t it writes: true means "write every element of t->grad,
 * do not add" (and t's gradient is then set, so a second write, e.g. x @ x, adds). */
static inline bool nn_grad_take_unset(nn_tensor *t) {
    bool unset = t->grad_state & NN_GRAD_UNSET;
    t->grad_state &= (unsigned char)~NN_GRAD_UNSET;
    return unset;
}
/* For an input that such a backward adds to after all (a broadcast one, say): zeroed first
 * if nothing has written it yet, as nn_backward would have. */
static inline void nn_grad_zero_if_unset(nn_tensor *t) {
    if (nn_grad_take_unset(t)) memset(t->grad, 0, t->size * sizeof(float));
}

/* The index of the first NaN or infinity in v[0..n), or n when all are finite. One fast pass
 * (no branch per element) in the common all-finite case. */
size_t nn_find_nonfinite(const float *v, size_t n);
/* How many of v[0..n) are NaN or infinite. */
size_t nn_count_nonfinite(const float *v, size_t n);
/* The multi-index of flat element i of t, "[2, 5]" ("[]" for a scalar), into buf. */
char *nn_index_str(const nn_tensor *t, size_t i, char *buf, size_t size);
/* v is t->data or t->grad. When one of its values is not finite, describe the first in buf,
 * "value[3, 0] = nan (shape (64, 1); 2 of 64 values not finite)" (or "grad[3, 0] = ..."),
 * and return true; false when all are finite. */
bool nn_nonfinite_str(const nn_tensor *t, const float *v, bool is_grad, char *buf,
                      size_t size);
/* "1.5 GiB" */
typedef struct { char s[32]; } nn_bytes_buf;
static inline nn_bytes_buf nn_bytes_of(double bytes) {
    static const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 6) bytes /= 1024.0, u++;
    nn_bytes_buf b;
    snprintf(b.s, sizeof b.s, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
    return b;
}
#define BYTES(n) (nn_bytes_of((double)(n)).s)

/* n bytes of a file as a quoted string for a message: the first max_shown of them, with \"
 * \\ \n \r \t, \xNN for control bytes and anything that is not printable ASCII or valid
 * UTF-8, and ... after the closing quote when some were left out (src/data/quote.c). */
void nn_quote_bytes(char *out, size_t size, const void *bytes, size_t n, size_t max_shown);

/* All of path (a regular file, a pipe, a device) into a new buffer with a NUL after it, if it
 * has at most `max` bytes; a larger regular file is refused before it is read, a stream after
 * max + 1 bytes. 0, or -1 with nn_last_error() "op: ..."; `note` says in the too-large message
 * what the limit is for (src/data/read_file.c). */
int nn_read_file(const char *op, const char *path, size_t max, const char *note, char **out,
                 size_t *len);

/* The checksum of the project's file formats: zlib's CRC-32 of b[0 .. n), fed to zlib in
 * pieces that fit its uInt (src/data/crc.c). */
uint32_t nn_crc32(const void *b, size_t n);

/* A float's bits and back (float32 values in files are these bits, little-endian). */
static inline uint32_t nn_float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float nn_bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Little-endian integers in files of the project's own formats (checkpoints, vocabularies). */
static inline void nn_put_le32(unsigned char *b, uint32_t v) {
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> 8 * k);
}
static inline void nn_put_le64(unsigned char *b, uint64_t v) {
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> 8 * k);
}
static inline uint32_t nn_get_le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t nn_get_le64(const unsigned char *b) {
    return (uint64_t)nn_get_le32(b) | (uint64_t)nn_get_le32(b + 4) << 32;
}
/* A cursor over a file's bytes b[pos .. end) that never reads past `end` (the checkpoint
 * loaders): nn_cursor_u32 reads the next little-endian uint32, or returns false at the end. */
typedef struct nn_cursor {
    const unsigned char *b;
    size_t pos, end;
} nn_cursor;
static inline bool nn_cursor_u32(nn_cursor *c, uint32_t *v) {
    if (c->end - c->pos < 4) return false;
    *v = nn_get_le32(c->b + c->pos);
    c->pos += 4;
    return true;
}

/* The text sources' shared pieces: the offset of the first invalid UTF-8 sequence in
 * text[0 .. len), or len, with "byte N (line L): what is wrong" in where (src/data/
 * text_utf8.c); and a vocabulary made from its arrays, which it takes over (src/data/text.c). */
size_t nn_utf8_find_bad(const char *text, size_t len, char *where, size_t size);
typedef struct nn_vocab nn_vocab;
nn_vocab *nn_vocab_from_arrays(int size, uint32_t *chars, uint64_t *counts);
/* The characters chars[1 .. count] and their counts as a loaded file holds them (NNVC and
 * NNBP files): each a character (no surrogate, nothing above U+10FFFF), none twice, in the
 * order nn_vocab_build gives (by count, ties by code point). 0, or -1 with "op: 'path' is
 * corrupt: <label> N ... after <after_label> M" (src/data/text_vocab_file.c). */
int nn_vocab_check_chars(const char *op, const char *path, const char *label,
                         const char *after_label, const uint32_t *chars, const uint64_t *counts,
                         uint32_t count);

/* Take parameters first .. nparams-1 out of m: the tail of its parameter list and of its
 * block of floats (LoRA's adapters, added last, leave this way). Pointers to them dangle
 * afterwards, and anything sized by the model (an optimizer) must be freed first. */
void nn_model_drop_params(nn_model *m, int first);

/* Allocation that never returns NULL: out of memory is reported and aborts. */
void *nn_xmalloc(size_t bytes);
void *nn_xcalloc(size_t count, size_t size);
void *nn_xrealloc(void *p, size_t bytes);

/* Normalize an axis (negative counts from the end); reports misuse and returns -1 when bad. */
int nn_norm_axis(const char *op, const nn_tensor *x, int axis);

/* A tensor seen along one axis as (outer, n, inner): n = shape[axis], outer = the product of
 * the dims before it, inner = the product of the dims after it. Element (o, k, i) sits at
 * (o * n + k) * inner + i. Reductions, softmax and the slicing ops all use this view. */
typedef struct { size_t outer, n, inner; } nn_axis_view;
static inline nn_axis_view nn_axis_view_of(const nn_tensor *x, int axis) {
    nn_axis_view v = {1, (size_t)x->shape[axis], 1};
    for (int d = 0; d < axis; d++) v.outer *= (size_t)x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) v.inner *= (size_t)x->shape[d];
    return v;
}

/* The most elements one tensor may have: far beyond any real memory, small enough that
 * size * sizeof(float) and products of sizes cannot overflow size_t. */
#define NN_MAX_ELEMENTS ((size_t)1 << 40)

/* Set a tensor's shape fields from (ndim, shape); returns the element count. */
size_t nn_set_shape(nn_tensor *t, int ndim, const int *shape);

/* A file written under a temporary name and renamed onto its path when complete
 * (src/data/safe_file.c). nn_safe_open returns 0 or an errno; write to s.f; then nn_safe_commit
 * with the first write error (0 if none) renames (or removes the temporary file) and returns
 * 0 or an errno. durable: fsync the file and its folder too (checkpoints). */
typedef struct { FILE *f; char *tmp; } nn_safe_file;
int nn_safe_open(nn_safe_file *s, const char *path);
int nn_safe_commit(nn_safe_file *s, const char *path, int err, bool durable);

/* Kernels: plain C, cache-friendly loops (the one place each hot loop lives). */
/* C (M,N) += A (M,K) @ B (K,N) */
void nn_kernel_matmul_nn(const float *A, const float *B, float *C, int M, int K, int N);
/* C (M,N) += A (M,K) @ B^T, B stored (N,K) */
void nn_kernel_matmul_nt(const float *A, const float *B, float *C, int M, int K, int N);
/* C (M,N) += A^T @ B, A stored (K,M), B (K,N) */
void nn_kernel_matmul_tn(const float *A, const float *B, float *C, int M, int K, int N);
/* The same three products on the blocked GEMM (src/core/gemm.c: packing, cache blocks, a
 * vector micro-kernel chosen for the CPU at run time, threads for big products); the same
 * result up to float rounding, several times faster. Every product in the library calls
 * these; nn_set_matmul_reference(true) routes them to the loops above. */
void nn_kernel_gemm_nn(const float *A, const float *B, float *C, int M, int K, int N);
void nn_kernel_gemm_nt(const float *A, const float *B, float *C, int M, int K, int N);
void nn_kernel_gemm_tn(const float *A, const float *B, float *C, int M, int K, int N);
/* C (M,N) = bias + op(A) op(B) (layouts as nn_sgemm), C's old contents ignored and never
 * read: bias is a row of N floats added to every row, or NULL for C = op(A) op(B). For
 * outputs and gradients that are fresh memory: no zeroing pass before the product. */
void nn_kernel_gemm_set(bool trans_a, bool trans_b, const float *A, const float *B, float *C,
                        int M, int N, int K, const float *bias);
/* C = op(A) op(B) when set, else C += op(A) op(B): for a backward that may write a gradient
 * the first time (nn_grad_take_unset). */
static inline void nn_kernel_gemm_any(bool set, bool trans_a, bool trans_b, const float *A,
                                      const float *B, float *C, int M, int N, int K) {
    if (set) nn_kernel_gemm_set(trans_a, trans_b, A, B, C, M, N, K, NULL);
    else if (!trans_a && !trans_b) nn_kernel_gemm_nn(A, B, C, M, K, N);
    else if (!trans_a) nn_kernel_gemm_nt(A, B, C, M, K, N);
    else nn_kernel_gemm_tn(A, B, C, M, K, N);
}
/* C (M,N) += op(A) op(B) (layouts as nn_sgemm) on one path (an nn_gemm_path), exactly: no
 * small-shape shortcut; threads > 0 fixes the team, 0 decides by size. For tests, benches. */
void nn_gemm_run(int path, bool trans_a, bool trans_b, const float *A, const float *B, float *C,
                 int M, int N, int K, int threads);

/* "v is a new maximum over best": larger, or the first NaN (a NaN then stays the maximum).
 * So max and argmax propagate NaN as PyTorch does, wherever the NaN sits. */
static inline bool nn_beats(float v, float best) { return v > best || (v != v && best == best); }

/* The maximum of x[0 .. n), n >= 1, by the same rule (NaN when any value is NaN), for the
 * softmaxes' shift. Eight running maxima and a NaN flag instead of one nn_beats chain, so that
 * the loop vectorises; a maximum does not depend on the order of the comparisons, so this is
 * the same number (up to the sign of a zero, which a shift x - m does not feel). */
static inline float nn_max_floats(const float *x, size_t n) {
    float part[8];
    int nan = 0;
    size_t i = 0;
    for (int l = 0; l < 8; l++) part[l] = x[0];
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) {
            float v = x[i + l];
            part[l] = v > part[l] ? v : part[l];
            nan |= v != v;
        }
    float m = part[0];
    for (int l = 1; l < 8; l++) m = part[l] > m ? part[l] : m;
    for (; i < n; i++) {
        m = x[i] > m ? x[i] : m;
        nan |= x[i] != x[i];
    }
    return nan ? NAN : m;
}

/* Parameter p of m is trained (not frozen) and regularised (a weight, not a bias): what
 * weight decay, L1 and L2 apply to. */
static inline bool nn_param_decays(const nn_model *m, int p) {
    return m->decay[p] && m->params[p]->requires_grad;
}

/* Elementwise and row-wise loops share their work among the OpenMP threads above this many
 * elements (a few hundred microseconds of work); below it, starting the threads costs more
 * than they save. Each element is computed the same way either way. */
#define PARALLEL_MIN_ELEMENTS (1L << 18)

/* Loops that only stream memory (a copy, a zeroing, an optimizer's update, a scan for NaN)
 * share it among the threads from this many floats on (128 KiB): each thread's part then
 * takes microseconds, more than starting the team costs on an idle machine, and on two
 * threads a serial pass leaves the other core waiting (the MLP's 400 KiB of gradients,
 * its 200 KiB batch). */
#define PARALLEL_MIN_STREAM (1L << 15)

/* true when every labels[0 .. rows) is a class index 0 .. classes-1; else an error for op
 * that names the first one out of range and the tensor t the classes come from, as
 * `name (shape)` ("logits (2, 4)"), and false (src/net/loss.c). */
bool nn_labels_in_range(const char *op, const int *labels, int rows, int classes,
                        const char *name, const nn_tensor *t);

/* sums[j] += the sum over the M rows of g (M, N) of column j, rows added in order (the same
 * bits on any number of threads): a bias's gradient (src/ops/matmul.c). */
void nn_add_column_sums(float *sums, const float *g, int M, int N);

/* dst[0 .. n) = src[0 .. n), and dst[0 .. n) = 0: memcpy and memset, on the threads for
 * long arrays (src/core/tensor.c). */
void nn_copy_floats(float *dst, const float *src, size_t n);
void nn_zero_floats(float *dst, size_t n);

/* The size of OpenMP's team and this thread's number in it (1 and 0 without OpenMP): for
 * loops that give each thread its own scratch. */
#ifdef _OPENMP
#include <omp.h>
static inline int nn_max_threads(void) { return omp_get_max_threads(); }
static inline int nn_thread_id(void) { return omp_get_thread_num(); }
#else
static inline int nn_max_threads(void) { return 1; }
static inline int nn_thread_id(void) { return 0; }
#endif

/* Max pooling of one (H, W) plane by k x k windows every s pixels: y (Ho, Wo) and each
 * winner's index in the plane (argmax may be NULL); general: the plain loop for every window
 * (the reference), else 2x2 / stride 2 rows unrolled. src/ops/pool.c. */
void nn_max_pool_plane(const float *x, int H, int W, int k, int s, bool general, float *y,
                       int *argmax);

/* Backward adds into an input's gradient only when that input asked for one. */
#define WANTS_GRAD(t) ((t) && (t)->requires_grad && (t)->grad)

/* nn_arena_alloc without the zeroing, for scratch that its op writes in full before reading
 * (saved values for backward, im2col's columns). Sanitizer builds fill it with NaN. */
void *nn_arena_alloc_unzeroed(size_t bytes);

/* nn_record for an op that writes EVERY element of its output: the output's memory is not
 * zeroed first (a pass over memory that the op then overwrites). An op that adds into its
 * output (a product through the GEMM, a scatter) must use nn_record. */
nn_tensor *nn_record_filled(const char *op, nn_backward_fn backward, int ndim, const int *shape,
                            nn_tensor *a, nn_tensor *b, nn_tensor *c, nn_node **node_out);

/* Record a one-input op whose output has x's shape and which writes all of it (the
 * elementwise ops, softmax, dropout). */
static inline nn_tensor *nn_unary_out(const char *op, nn_backward_fn backward, nn_tensor *x,
                                      nn_node **node) {
    return nn_record_filled(op, backward, x->ndim, x->shape, x, NULL, NULL, node);
}
#endif
