/* tests/mpi/data_parallel_equal.c — data parallelism must give the numbers of one process.
 *
 *   make MPI=1 test-mpi          (runs mpirun -np 2 and -np 3 on this program)
 *
 * Every rank trains model A data-parallel: its shard of each global batch, the gradients
 * averaged with nn_dist_average_grads, AdamW. Rank 0 also trains model B alone on the whole
 * global batches, from the same initial weights. After STEPS steps:
 *   1. A is the same on every rank (all took the same steps);
 *   2. A equals B within 1e-5 relative (max |A - B| / max |B|): only float rounding differs,
 *      since the sum over the batch is added up in another order.
 * The other ranks start A from different random weights on purpose: nn_dist_broadcast_params
 * must replace them with rank 0's. With -np 3 and B = 10 the shards are 4, 3, 3 rows, which
 * checks the weighting of unequal shards. Exit 0 when everything holds, 1 otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nn.h>

enum { IN = 6, HID = 16, OUT = 4, ROWS = 400, B = 10, STEPS = 40 };

typedef struct net {
    nn_model *m;
    nn_linear_layer *l1, *l2;
} net;

static net net_new(uint64_t seed) {
    nn_seed(seed);
    net n = {.m = nn_model_new()};
    n.l1 = nn_linear_layer_new(n.m, "l1", IN, HID, NN_INIT_XAVIER);
    n.l2 = nn_linear_layer_new(n.m, "l2", HID, OUT, NN_INIT_XAVIER);
    return n;
}

/* The mean cross-entropy over `count` rows of x starting at row `first`. */
static nn_tensor *loss_of(const net *n, const float *x, const int *y, int first, int count) {
    nn_tensor *in = nn_graph_tensor(2, (int[]){count, IN}, false); /* freed by nn_graph_clear */
    memcpy(in->data, x + (size_t)first * IN, sizeof(float) * (size_t)count * IN);
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(n->l1, in));
    return nn_cross_entropy_loss(nn_linear_layer_forward(n->l2, h), y + first);
}

static double max_abs(const float *a, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i]));
    return m;
}

int main(int argc, char **argv) {
    if (nn_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "%s\n", nn_last_error());
        return 1;
    }
    int rank = nn_dist_rank(), size = nn_dist_size();

    /* The same data on every rank (a fixed generator), labels from a rule plus noise. */
    static float x[ROWS * IN];
    static int y[ROWS];
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int r = 0; r < ROWS; r++) {
        float s = 0.0f;
        for (int i = 0; i < IN; i++) s += (x[r * IN + i] = 2.0f * nn_rng_uniform(&rng) - 1.0f) * (i + 1);
        y[r] = ((int)floorf(s * 2.0f) % OUT + OUT) % OUT;
    }

    net a = net_new(rank == 0 ? 11 : 1000 + (uint64_t)rank); /* others: wrong on purpose */
    nn_dist_broadcast_params(a.m);
    nn_optim *opt_a = nn_adamw_new(a.m, 1e-2f, 0.01f);
    net b = {0};
    nn_optim *opt_b = NULL;
    if (rank == 0) {
        b = net_new(11);
        opt_b = nn_adamw_new(b.m, 1e-2f, 0.01f);
    }

    double first_loss = 0.0, last_loss = 0.0, batch_loss = 0.0;
    if (rank == 0) first_loss = nn_item(loss_of(&a, x, y, 0, ROWS)), nn_graph_clear();
    for (int step = 0; step < STEPS; step++) {
        int start = (step * B) % ROWS;
        nn_dist_shard s = nn_dist_shard_of(B, rank, size);
        nn_tensor *loss = loss_of(&a, x, y, start + s.begin, s.count);
        double weighted = (double)nn_item(loss) * s.count / B; /* the global mean, in parts */
        nn_model_zero_grad(a.m);
        nn_backward(loss);
        nn_dist_average_grads(a.m, s.count, B);
        nn_optim_step(opt_a);
        nn_graph_clear();
        nn_dist_sum(&weighted, 1); /* every rank: the global batch's mean loss */
        batch_loss = weighted;
        if (rank == 0) {
            nn_tensor *lb = loss_of(&b, x, y, start, B);
            nn_model_zero_grad(b.m);
            nn_backward(lb);
            nn_optim_step(opt_b);
            nn_graph_clear();
        }
    }

    /* 1. the same weights on every rank: rank 0's copy against each rank's */
    size_t count = a.m->count;
    float *mine = a.m->data, *zero = malloc(sizeof(float) * count);
    for (size_t i = 0; i < count; i++) zero[i] = rank == 0 ? mine[i] : 0.0f;
    double *sum = malloc(sizeof(double) * count);
    for (size_t i = 0; i < count; i++) sum[i] = zero[i];
    nn_dist_sum(sum, (int)count); /* rank 0's weights, now on every rank */
    double spread = 0.0;
    for (size_t i = 0; i < count; i++) spread = fmax(spread, fabs(mine[i] - sum[i]));
    nn_dist_sum(&spread, 1);

    int failed = 0;
    if (spread > 0.0) {
        fprintf(stderr, "rank %d: the ranks' weights differ (max %g)\n", rank, spread);
        failed = 1;
    }
    if (rank == 0) {
        last_loss = nn_item(loss_of(&a, x, y, 0, ROWS)), nn_graph_clear();
        double diff = 0.0;
        for (size_t i = 0; i < count; i++) diff = fmax(diff, fabs((double)mine[i] - b.m->data[i]));
        double rel = diff / max_abs(b.m->data, count);
        printf("data parallel, %d processes, global batch %d, %d steps of AdamW: loss on all rows %.4f -> "
               "%.4f (last batch %.4f); max |A - B| / max |B| = %.3g (limit 1e-5), spread across ranks %g\n",
               size, B, STEPS, first_loss, last_loss, batch_loss, rel, spread);
        if (!(rel <= 1e-5)) {
            fprintf(stderr, "FAIL: the data-parallel weights differ from one process's\n");
            failed = 1;
        }
        if (!(last_loss < first_loss)) {
            fprintf(stderr, "FAIL: the loss did not fall (%g -> %g)\n", first_loss, last_loss);
            failed = 1;
        }
        nn_optim_free(opt_b);
        nn_model_free(b.m);
    }
    double any = failed;
    nn_dist_sum(&any, 1);
    if (rank == 0) printf("%s\n", any == 0.0 ? "mpi test passed" : "mpi test FAILED");
    free(zero), free(sum);
    nn_optim_free(opt_a);
    nn_model_free(a.m);
    nn_graph_release();
    nn_dist_finalize();
    return any == 0.0 ? 0 : 1;
}
