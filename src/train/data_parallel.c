/* src/train/data_parallel.c — data parallelism (数据并行): broadcast the weights, all-reduce the
 * gradients (nn/train/data_parallel.h).
 *
 * One file, two builds. With NN_HAVE_MPI (make MPI=1) every function is a thin, checked
 * wrapper around one MPI call; without it the same functions describe a job of one process,
 * where a broadcast or a sum over "all ranks" leaves the values as they are. The arithmetic
 * that both share (the shard of each rank, the scale of a rank's gradient) is written once.
 */
#include "internal.h"
#include "nn/core/clock.h"
#include "nn/train/data_parallel.h"

#ifdef NN_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1;
static bool g_started = false;
static double g_comm_seconds = 0.0;

nn_dist_shard nn_dist_shard_of(int n, int rank, int size) {
    nn_dist_shard s = {0, 0};
    if (n < 0 || size < 1 || rank < 0 || rank >= size) {
        nn_fail("nn_dist_shard_of", "rank is 0 .. size-1, size >= 1, n >= 0",
                "n = %d, rank = %d, size = %d", n, rank, size);
        return s;
    }
    int base = n / size, extra = n % size;  /* the first `extra` ranks take one row more */
    s.count = base + (rank < extra);
    s.begin = rank * base + (rank < extra ? rank : extra);
    return s;
}

bool nn_dist_available(void) {
#ifdef NN_HAVE_MPI
    return true;
#else
    return false;
#endif
}

int nn_dist_rank(void) { return g_rank; }
int nn_dist_size(void) { return g_size; }
double nn_dist_comm_seconds(void) { return g_comm_seconds; }

#ifdef NN_HAVE_MPI
/* Every MPI call goes through here: on failure, say which call failed on which rank and end
 * the whole job, since the other ranks would otherwise wait for this one forever. (The
 * communicator is switched to MPI_ERRORS_RETURN in init so that a failure reaches us.) */
static void mpi_check(int rc, const char *op, const char *call) {
    if (rc == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    fprintf(stderr, "%s: %s failed on rank %d of %d: %s; ending the job\n", op, call, g_rank,
            g_size, text);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
#endif

int nn_dist_init(int *argc, char ***argv) {
    if (g_started) return 0;
#ifdef NN_HAVE_MPI
    int already = 0;
    MPI_Initialized(&already);
    if (!already && MPI_Init(argc, argv) != MPI_SUCCESS)
        return nn_set_last_error("nn_dist_init: MPI_Init failed (is this run under mpirun?)");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
#else
    (void)argc, (void)argv;
#endif
    g_started = true;
    g_comm_seconds = 0.0;
    return 0;
}

void nn_dist_finalize(void) {
    if (!g_started) return;
#ifdef NN_HAVE_MPI
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
#endif
    g_started = false;
    g_rank = 0, g_size = 1;
}

void nn_dist_abort(int code) {
#ifdef NN_HAVE_MPI
    fflush(stdout), fflush(stderr);
    if (g_started) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

static bool started(const char *op) {
    if (!g_started) nn_fail(op, "call nn_dist_init(&argc, &argv) first", "not initialised");
    return g_started;
}

int nn_dist_broadcast_params(nn_model *m) {
    NN_REQUIRE_OR(m, "nn_dist_broadcast_params", -1);
    if (!started("nn_dist_broadcast_params")) return -1;
#ifdef NN_HAVE_MPI
    double t0 = nn_seconds();
    /* Counts must agree, or the broadcast would read past one rank's block: check first. */
    long long mine = (long long)m->count, lo = mine, hi = mine;
    mpi_check(MPI_Allreduce(&mine, &lo, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD),
              "nn_dist_broadcast_params", "MPI_Allreduce");
    mpi_check(MPI_Allreduce(&mine, &hi, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD),
              "nn_dist_broadcast_params", "MPI_Allreduce");
    if (lo != hi) {
        g_comm_seconds += nn_seconds() - t0;
        nn_fail("nn_dist_broadcast_params", "build the same model on every rank",
                "rank %d has %lld parameters, others between %lld and %lld", g_rank, mine, lo, hi);
        return -1;
    }
    /* MPI counts are int: send the block in pieces of at most 2^30 floats. */
    for (size_t at = 0; at < m->count; at += (size_t)1 << 30) {
        size_t n = m->count - at < ((size_t)1 << 30) ? m->count - at : (size_t)1 << 30;
        mpi_check(MPI_Bcast(m->data + at, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD),
                  "nn_dist_broadcast_params", "MPI_Bcast");
    }
    g_comm_seconds += nn_seconds() - t0;
#endif
    return 0;
}

int nn_dist_average_grads(nn_model *m, int my_rows, int global_rows) {
    NN_REQUIRE_OR(m, "nn_dist_average_grads", -1);
    if (!started("nn_dist_average_grads")) return -1;
    if (my_rows < 0 || global_rows < 1 || my_rows > global_rows) {
        nn_fail("nn_dist_average_grads", "pass this rank's rows and the global batch's rows",
                "my_rows = %d, global_rows = %d", my_rows, global_rows);
        return -1;
    }
    /* The rows must add up to the global batch over the ranks, or the "mean" is wrong (one
     * more all-reduce of a single number: latency, not bandwidth). */
    double rows = my_rows;
    if (nn_dist_sum(&rows, 1) != 0) return -1;
    if ((int)rows != global_rows) {
        nn_fail("nn_dist_average_grads", "the shards of the ranks must cover the batch once "
                "(nn_dist_shard_of)", "the ranks' rows add up to %d, not %d", (int)rows,
                global_rows);
        return -1;
    }
    /* mean over B rows = sum over ranks of (rows_r / B) * (mean over rank r's rows); the
     * scaling is arithmetic, not communication, so the clock starts after it */
    if (my_rows != global_rows) {
        float scale = (float)my_rows / (float)global_rows;
        for (size_t i = 0; i < m->count; i++) m->grad[i] *= scale;
    }
    double t0 = nn_seconds();
#ifdef NN_HAVE_MPI
    for (size_t at = 0; at < m->count; at += (size_t)1 << 30) {
        size_t n = m->count - at < ((size_t)1 << 30) ? m->count - at : (size_t)1 << 30;
        mpi_check(MPI_Allreduce(MPI_IN_PLACE, m->grad + at, (int)n, MPI_FLOAT, MPI_SUM,
                                MPI_COMM_WORLD), "nn_dist_average_grads", "MPI_Allreduce");
    }
#endif
    g_comm_seconds += nn_seconds() - t0;
    return 0;
}

int nn_dist_sum(double *values, int n) {
    if (!started("nn_dist_sum")) return -1;
    if (n < 0 || (n > 0 && !values)) {
        nn_fail("nn_dist_sum", "pass an array of n >= 0 values", "values = %p, n = %d",
                (void *)values, n);
        return -1;
    }
#ifdef NN_HAVE_MPI
    double t0 = nn_seconds();
    if (n > 0)
        mpi_check(MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                  "nn_dist_sum", "MPI_Allreduce");
    g_comm_seconds += nn_seconds() - t0;
#endif
    return 0;
}

int nn_dist_barrier(void) {
    if (!started("nn_dist_barrier")) return -1;
#ifdef NN_HAVE_MPI
    double t0 = nn_seconds();
    mpi_check(MPI_Barrier(MPI_COMM_WORLD), "nn_dist_barrier", "MPI_Barrier");
    g_comm_seconds += nn_seconds() - t0;
#endif
    return 0;
}
