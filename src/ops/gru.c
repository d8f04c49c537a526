/* src/ops/gru.c — a GRU over a whole sequence as one op, forward and backward through time.
 *
 * The formulas are in include/nn/ops/gru.h; src/net/rnn.c has the same cell written with the
 * library's ops, which nn_set_rnn_reference(true) selects and the tests compare with. Here:
 *   S      (T+1, B, H)   the states h_0 .. h_T, step by step (S[0] = h0)
 *   gates  (T, B, 4H)    per step and row: r, z, n and hnb = hn + bn, saved for backward
 *   P, dP  (B, 3H)       h Wh of one step, and its gradient (all steps kept: (T, B, 3H))
 * Each step's product h Wh (and backward's dP Wh^T) is small, 32 x 128 by 128 x 384 in the
 * char model; what makes this op fast is everything around it: one pass over the gates per
 * step instead of about fifteen ops, each with its own output, gradient and node.
 * Every sample (row) is its own sequence, so the rows are cut into blocks of ROW_BLOCK that
 * the OpenMP threads run through all T steps independently. The blocks do not depend on the
 * thread count, and dbn is summed after the loop in a fixed order, so neither do the bits. */
#include "internal.h"
#include "core/vmath.h"
#include "nn/ops/gru.h"

enum { ROW_BLOCK = 16 };

static int row_blocks(int B) { return (B + ROW_BLOCK - 1) / ROW_BLOCK; }

/* threads for the blocks when there are several and each step has some work */
static bool parallel_rows(int B, int H) { return row_blocks(B) > 1 && (long)B * H >= 2048; }

typedef struct {
    int B, T, H;
    float *S;       /* (T+1, B, H) */
    float *gates;   /* (T, B, 4H): r, z, n, hn + bn */
} gru_saved;

/* ---- forward: one step -------------------------------------------------------------------- */

/* h (B, H) -> h_next (B, H), with P = h Wh (B, 3H) already made; xg_t's row b is at
 * xg_t + b * xg_stride; the step's r, z, n, hnb go to gates (B, 4H). */
static void gru_step(int B, int H, const float *xg_t, size_t xg_stride, const float *P,
                     const float *bn, const float *h, float *gates, float *h_next) {
    for (int b = 0; b < B; b++) {
        const float *x = xg_t + (size_t)b * xg_stride, *p = P + (size_t)b * 3 * H;
        const float *hb = h + (size_t)b * H;
        float *r = gates + (size_t)b * 4 * H, *z = r + H, *n = z + H, *hnb = n + H;
        for (int j = 0; j < 2 * H; j++) r[j] = x[j] + p[j];       /* r and z side by side */
        nn_vsigmoid(r, r, (size_t)2 * H);
        for (int j = 0; j < H; j++) {
            hnb[j] = p[2 * H + j] + bn[j];
            n[j] = x[2 * H + j] + r[j] * hnb[j];
        }
        nn_vtanh(n, n, (size_t)H);
        float *out = h_next + (size_t)b * H;
        for (int j = 0; j < H; j++) out[j] = n[j] + z[j] * (hb[j] - n[j]);
    }
}

/* ---- backward: through time, last step first ------------------------------------------- */

static void gru_backward(nn_node *node) {
    const gru_saved *s = node->extra;
    int B = s->B, T = s->T, H = s->H, H3 = 3 * H;
    nn_tensor *xg = node->in[0], *h0 = node->in[1], *Wh = node->in[2], *bn = node->in[3];
    const float *dy = node->out->grad;   /* (B, T, H) */
    bool want_xg = WANTS_GRAD(xg), set_xg = want_xg && nn_grad_take_unset(xg);
    float *dP = nn_arena_alloc_unzeroed(sizeof(float) * (size_t)T * B * H3);   /* (T, B, 3H) */
    float *carry = nn_arena_alloc(sizeof(float) * (size_t)B * H);   /* dL/dh_t from step t */
    float *next = nn_arena_alloc_unzeroed(sizeof(float) * (size_t)B * H);
#pragma omp parallel for schedule(static) if (parallel_rows(B, H))
    for (int blk = 0; blk < row_blocks(B); blk++) {
        int b0 = blk * ROW_BLOCK, b1 = b0 + ROW_BLOCK < B ? b0 + ROW_BLOCK : B;
        float *cur = carry, *nxt = next;   /* this block's rows of each */
        for (int t = T - 1; t >= 0; t--) {
            const float *h = s->S + (size_t)t * B * H;
            for (int b = b0; b < b1; b++) {
                const float *r = s->gates + ((size_t)t * B + b) * 4 * H, *z = r + H, *n = z + H,
                            *hnb = n + H, *hb = h + (size_t)b * H;
                const float *dyb = dy + ((size_t)b * T + t) * H, *cb = cur + (size_t)b * H;
                float *dp = dP + ((size_t)t * B + b) * H3, *nb = nxt + (size_t)b * H;
                float *dx = want_xg ? xg->grad + ((size_t)b * T + t) * H3 : NULL;
                for (int j = 0; j < H; j++) {
                    float g = dyb[j] + cb[j];              /* dL/dh_{t+1} */
                    float dn = g * (1.0f - z[j]), dz = g * (hb[j] - n[j]);
                    float da_n = dn * (1.0f - n[j] * n[j]);
                    float da_r = da_n * hnb[j] * r[j] * (1.0f - r[j]);
                    float da_z = dz * z[j] * (1.0f - z[j]);
                    dp[j] = da_r;
                    dp[H + j] = da_z;
                    dp[2 * H + j] = da_n * r[j];
                    nb[j] = g * z[j];                      /* h's direct path to h_{t+1} */
                    if (set_xg) {
                        dx[j] = da_r, dx[H + j] = da_z, dx[2 * H + j] = da_n;
                    } else if (dx) {
                        dx[j] += da_r, dx[H + j] += da_z, dx[2 * H + j] += da_n;
                    }
                }
            }
            /* dL/dh_t = the direct path + dP_t Wh^T:  (rows, 3H) @ (3H, H), Wh stored (H, 3H) */
            nn_kernel_gemm_nt(dP + ((size_t)t * B + b0) * H3, Wh->data, nxt + (size_t)b0 * H,
                              b1 - b0, H3, H);
            float *swap = cur;
            cur = nxt, nxt = swap;
        }
        if (cur != carry)   /* an odd T leaves this block's dL/dh_0 in next: bring it home */
            memcpy(carry + (size_t)b0 * H, cur + (size_t)b0 * H, sizeof(float) * (b1 - b0) * H);
    }
    if (WANTS_GRAD(h0)) {
        nn_grad_zero_if_unset(h0);
        for (size_t i = 0; i < (size_t)B * H; i++) h0->grad[i] += carry[i];
    }
    if (WANTS_GRAD(Wh)) {   /* dWh (H, 3H) += [h_0 .. h_{T-1}]^T (H, T*B) @ dP (T*B, 3H) */
        nn_grad_zero_if_unset(Wh);
        nn_kernel_gemm_tn(s->S, dP, Wh->grad, H, T * B, H3);
    }
    if (WANTS_GRAD(bn)) {   /* dbn = the sum of dP's n parts (da_n r) over every step and row */
        nn_grad_zero_if_unset(bn);
        for (size_t tb = 0; tb < (size_t)T * B; tb++)
            for (int j = 0; j < H; j++) bn->grad[j] += dP[tb * H3 + 2 * H + j];
    }
}

/* ---- the op ------------------------------------------------------------------------------ */

nn_tensor *nn_gru_sequence(nn_tensor *xg, nn_tensor *h0, nn_tensor *Wh, nn_tensor *bn) {
    const char *op = "nn_gru_sequence";
    NN_REQUIRE(xg, op);
    NN_REQUIRE(h0, op);
    NN_REQUIRE(Wh, op);
    NN_REQUIRE(bn, op);
    if (Wh->ndim != 2 || Wh->shape[1] != 3 * Wh->shape[0]) {
        nn_fail(op, "Wh is (H, 3H): the r, z and n parts of h Wh side by side",
                "Wh has shape %s", SHAPE(Wh));
        return NULL;
    }
    int H = Wh->shape[0];
    if (xg->ndim != 3 || xg->shape[2] != 3 * H) {
        nn_fail(op, "xg is (B, T, 3H): x Wx + b for every step", "xg %s with Wh %s",
                SHAPE(xg), SHAPE(Wh));
        return NULL;
    }
    int B = xg->shape[0], T = xg->shape[1];
    if (B < 1 || T < 1) {
        nn_fail(op, "at least one sequence of at least one step", "xg has shape %s", SHAPE(xg));
        return NULL;
    }
    if (h0->ndim != 2 || h0->shape[0] != B || h0->shape[1] != H || bn->ndim != 1 ||
        bn->shape[0] != H) {
        nn_fail(op, "h0 is (B, H) and bn (H), B and H as in xg (B, T, 3H) and Wh (H, 3H)",
                "h0 %s, bn %s with xg %s", SHAPE(h0), SHAPE(bn), SHAPE(xg));
        return NULL;
    }
    nn_node *node;
    nn_tensor *in[4] = {xg, h0, Wh, bn};
    nn_tensor *y = nn_record_n(op, gru_backward, 3, (int[]){B, T, H}, 4, in, &node);
    size_t BH = (size_t)B * H;
    float *S = nn_arena_alloc_unzeroed(sizeof(float) * (T + 1) * BH);
    float *gates = nn_arena_alloc_unzeroed(sizeof(float) * (size_t)T * 4 * BH);
    float *P = nn_arena_alloc_unzeroed(sizeof(float) * 3 * BH);   /* h Wh, (B, 3H) */
    memcpy(S, h0->data, sizeof(float) * BH);
#pragma omp parallel for schedule(static) if (parallel_rows(B, H))
    for (int blk = 0; blk < row_blocks(B); blk++) {
        int b0 = blk * ROW_BLOCK, rows = (b0 + ROW_BLOCK < B ? b0 + ROW_BLOCK : B) - b0;
        float *Pb = P + (size_t)b0 * 3 * H;
        for (int t = 0; t < T; t++) {
            float *h = S + (size_t)t * BH + (size_t)b0 * H, *h_next = h + BH;
            nn_kernel_gemm_set(false, false, h, Wh->data, Pb, rows, 3 * H, H, NULL);
            gru_step(rows, H, xg->data + ((size_t)b0 * T + t) * 3 * H, (size_t)T * 3 * H, Pb,
                     bn->data, h, gates + ((size_t)t * B + b0) * 4 * H, h_next);
            for (int b = 0; b < rows; b++)   /* y[b, t] = h_{t+1}[b] */
                memcpy(y->data + ((size_t)(b0 + b) * T + t) * H, h_next + (size_t)b * H,
                       sizeof(float) * H);
        }
    }
    if (node) {
        gru_saved *s = nn_arena_alloc(sizeof *s);
        *s = (gru_saved){B, T, H, S, gates};
        node->extra = s;
        node->sets_grads = true;
    }
    return y;
}
