/* src/core/gemm_pack.c — copy a block of A or B into the order the micro-kernel reads.
 *
 * Why copy at all, when the copy is O(n^2) work next to the O(n^3) product:
 *   - the micro-kernel then reads both operands as one straight line of memory: each step k
 *     takes MR consecutive floats of A and NR consecutive floats of B, so every cache line
 *     fetched is used whole, and the hardware prefetcher sees a single stream;
 *   - the rows of an unpacked B lie N floats apart; when N is a power of two (1024 floats =
 *     4 KiB) they all fall into the same few sets of the 8-way L1 cache and evict each other.
 *     The packed panel is contiguous, so it occupies the cache evenly;
 *   - the copy is where the layout is absorbed: op(A) = A or A^T, op(B) = B or B^T all pack
 *     into the same panels, so one kernel serves every product and nothing is transposed;
 *   - the edges are padded with zeros here, so the kernel needs no edge cases inside its loop.
 * Each packed element is then read MC/MR (B) or NC/NR (A) times by the kernel, which is what
 * pays for the copy.
 *
 * Loop order: the inner loop walks whichever direction is contiguous in the source (a row of
 * A (M,K) is contiguous; a column of A^T is), so the reads stream and the writes scatter
 * within a small panel that sits in L1 anyway.
 */
#include "gemm_internal.h"

/* micro-panel p of A: rows p*MR .. p*MR+MR-1, all kc columns; dst[k*MR + r] */
void nn_gemm_pack_a(gemm_view A, int mc, int kc, int MR, float *dst) {
    for (int p = 0; p * MR < mc; p++) {
        int i0 = p * MR, rows = mc - i0 < MR ? mc - i0 : MR;
        float *d = dst + (size_t)p * MR * kc;
        const float *src = A.p + (size_t)i0 * A.rs;
        if (A.cs == 1) { /* rows contiguous (A as stored): read along k, one row at a time */
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < kc; k++) d[(size_t)k * MR + r] = src[(size_t)r * A.rs + k];
        } else {         /* columns contiguous (A^T): read MR neighbours of each k */
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < rows; r++)
                    d[(size_t)k * MR + r] = src[(size_t)r * A.rs + (size_t)k * A.cs];
        }
        for (int r = rows; r < MR; r++) /* zero rows past the bottom edge of C */
            for (int k = 0; k < kc; k++) d[(size_t)k * MR + r] = 0.0f;
    }
}

/* micro-panel p of B: columns p*NR .. p*NR+NR-1, all kc rows; dst[k*NR + j] */
void nn_gemm_pack_b(gemm_view B, int kc, int nc, int NR, float *dst) {
    for (int p = 0; p * NR < nc; p++) {
        int j0 = p * NR, cols = nc - j0 < NR ? nc - j0 : NR;
        float *d = dst + (size_t)p * NR * kc;
        const float *src = B.p + (size_t)j0 * B.cs;
        if (B.cs == 1) { /* rows contiguous (B as stored): NR neighbours of each row k */
            for (int k = 0; k < kc; k++) {
                const float *row = src + (size_t)k * B.rs;
                float *out = d + (size_t)k * NR;
                for (int j = 0; j < cols; j++) out[j] = row[j];
                for (int j = cols; j < NR; j++) out[j] = 0.0f; /* past the right edge */
            }
        } else {         /* columns contiguous (B^T): read down each column */
            for (int j = 0; j < cols; j++)
                for (int k = 0; k < kc; k++)
                    d[(size_t)k * NR + j] = src[(size_t)j * B.cs + (size_t)k * B.rs];
            for (int k = 0; k < kc; k++)
                for (int j = cols; j < NR; j++) d[(size_t)k * NR + j] = 0.0f;
        }
    }
}
