/* src/net/preference.c — the log probability of a sequence, and the DPO loss
 * (nn/net/preference.h). */
#include "internal.h"
#include "nn/net/preference.h"

/* ---- log p of a sequence -----------------------------------------------------------------
 * out[b] = sum_t w[b,t] * (z[b,t,y] - logsumexp(z[b,t,:]))
 * Saved for backward: the softmax of every weighted position, the targets and the weights. */

typedef struct {
    int rows, V, T;        /* rows = B * T positions of V logits, T per sequence */
    float *probs;          /* (rows, V); rows with weight 0 left 0 */
    int *targets;          /* (rows) */
    float *weights;        /* (rows) */
} seq_saved;

static void sequence_log_prob_backward(nn_node *n) {
    const seq_saved *s = n->extra;
    nn_tensor *logits = n->in[0];
    if (!WANTS_GRAD(logits)) return;
    for (int r = 0; r < s->rows; r++) {
        float g = n->out->grad[r / s->T] * s->weights[r];
        if (g == 0.0f) continue;
        const float *p = s->probs + (size_t)r * s->V;
        float *gz = logits->grad + (size_t)r * s->V;
        for (int c = 0; c < s->V; c++) gz[c] -= g * p[c];
        gz[s->targets[r]] += g;
    }
}

nn_tensor *nn_sequence_log_prob(nn_tensor *logits, const int *targets, const float *weights) {
    static const char op[] = "nn_sequence_log_prob";
    NN_REQUIRE(logits, op);
    NN_REQUIRE(targets, op);
    if (logits->ndim != 2 && logits->ndim != 3) {
        nn_fail(op, "logits are (B, T, V), or (T, V) for one sequence", "logits have shape %s",
                SHAPE(logits));
        return NULL;
    }
    int B = logits->ndim == 3 ? logits->shape[0] : 1, T = logits->shape[logits->ndim - 2];
    int V = logits->shape[logits->ndim - 1], rows = B * T;
    for (int r = 0; r < rows; r++) {
        float w = weights ? weights[r] : 1.0f;
        if (!isfinite(w)) {
            nn_fail(op, "weights are finite: 1 on the tokens to count, 0 elsewhere",
                    "weights[%d] = %g", r, w);
            return NULL;
        }
        if (w != 0.0f && (targets[r] < 0 || targets[r] >= V)) {
            nn_fail(op, "targets are token ids 0 .. V-1", "targets[%d] = %d with V = %d", r,
                    targets[r], V);
            return NULL;
        }
    }
    nn_node *node;
    nn_tensor *out = nn_record(op, sequence_log_prob_backward, 1, &B, logits, NULL, NULL, &node);
    seq_saved *s = NULL;
    if (node) {
        s = nn_arena_alloc(sizeof *s);
        *s = (seq_saved){.rows = rows, .V = V, .T = T,
                         .probs = nn_arena_alloc((size_t)rows * V * sizeof(float)),
                         .targets = nn_arena_alloc((size_t)rows * sizeof(int)),
                         .weights = nn_arena_alloc((size_t)rows * sizeof(float))};
        node->extra = s;
    }
    for (int r = 0; r < rows; r++) {
        float w = weights ? weights[r] : 1.0f;
        if (s) s->targets[r] = w != 0.0f ? targets[r] : 0, s->weights[r] = w;
        if (w == 0.0f) continue;
        const float *z = logits->data + (size_t)r * V;
        float m = nn_max_floats(z, (size_t)V);
        double sum = 0.0;
        for (int c = 0; c < V; c++) sum += exp((double)(z[c] - m));
        if (s) {
            float *p = s->probs + (size_t)r * V;
            for (int c = 0; c < V; c++) p[c] = (float)(exp((double)(z[c] - m)) / sum);
        }
        out->data[r / T] += w * (float)((double)(z[targets[r]] - m) - log(sum));
    }
    return out;
}

/* ---- DPO ----------------------------------------------------------------------------------
 * z_i = beta * ((pc_i - rc_i) - (pr_i - rr_i)),  L = (1/N) sum_i softplus(-z_i)
 * dL/dz_i = -sigmoid(-z_i) / N;  dz/dpc = beta, dz/drc = -beta, dz/dpr = -beta, dz/drr = beta */

static float softplus(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }

static void dpo_backward(nn_node *n) {
    const float *z = n->extra, beta = z[n->in[0]->size];
    size_t N = n->in[0]->size;
    static const float sign[4] = {1, -1, -1, 1};   /* dz/d(pc, pr, rc, rr) / beta */
    for (size_t i = 0; i < N; i++) {
        float dz = -n->out->grad[0] / (float)N / (1.0f + expf(z[i]));   /* -sigmoid(-z) / N */
        for (int k = 0; k < 4; k++)
            if (WANTS_GRAD(n->in[k])) n->in[k]->grad[i] += sign[k] * beta * dz;
    }
}

nn_tensor *nn_dpo_loss(nn_tensor *policy_chosen, nn_tensor *policy_rejected,
                       nn_tensor *ref_chosen, nn_tensor *ref_rejected, float beta) {
    static const char op[] = "nn_dpo_loss";
    nn_tensor *in[4] = {policy_chosen, policy_rejected, ref_chosen, ref_rejected};
    for (int k = 0; k < 4; k++) NN_REQUIRE(in[k], op);
    for (int k = 0; k < 4; k++)
        if (in[k]->ndim != 1 || in[k]->size != policy_chosen->size) {
            nn_fail(op, "pass four tensors of shape (N), one log probability per pair",
                    "policy_chosen %s, policy_rejected %s, ref_chosen %s, ref_rejected %s",
                    SHAPE(in[0]), SHAPE(in[1]), SHAPE(in[2]), SHAPE(in[3]));
            return NULL;
        }
    if (!(beta > 0.0f) || !isfinite(beta)) {
        nn_fail(op, "beta > 0 sets how far the policy may move from the reference (0.1 .. 0.5 "
                "is usual)", "beta = %g", beta);
        return NULL;
    }
    size_t N = policy_chosen->size;
    nn_node *node;
    nn_tensor *out = nn_record_n(op, dpo_backward, 0, NULL, 4, in, &node);
    float *z = nn_arena_alloc((N + 1) * sizeof(float));
    double total = 0.0;
    for (size_t i = 0; i < N; i++) {
        z[i] = beta * ((policy_chosen->data[i] - ref_chosen->data[i]) -
                       (policy_rejected->data[i] - ref_rejected->data[i]));
        total += softplus(-z[i]);
    }
    z[N] = beta;
    out->data[0] = (float)(total / (double)N);
    if (node) node->extra = z;
    return out;
}
