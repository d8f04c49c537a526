/* nn/train/data_parallel.h — data parallelism (数据并行) over Open MPI: every process holds the
 * whole model, computes the gradient of its own shard of each batch, and the processes average
 * their gradients (all-reduce) before every optimizer step, so that all of them take the same
 * step, the one a single process would take on the whole batch.
 *
 *   nn_dist_init(&argc, &argv);                  // MPI_Init (or nothing: one process)
 *   int rank = nn_dist_rank(), size = nn_dist_size();
 *   ... build the model the same way on every rank ...
 *   nn_dist_broadcast_params(model);             // rank 0's weights everywhere
 *   for (step ...) {
 *       nn_dist_shard s = nn_dist_shard_of(B, rank, size);   // my rows of the global batch
 *       ... forward on rows s.begin .. s.begin + s.count, loss = mean over MY rows ...
 *       nn_model_zero_grad(model);
 *       nn_backward(loss);
 *       nn_dist_average_grads(model, s.count, B);   // one MPI_Allreduce
 *       nn_optim_step(opt);                      // the same step on every rank
 *   }
 *   if (rank == 0) nn_model_save(model, path);   // rank 0 writes, every rank may read
 *   nn_dist_finalize();
 *
 * Built with MPI by `make MPI=1` (flags from `mpicc --showme`); without it the same functions
 * run one process: rank 0 of size 1, the averages are the values themselves, and every
 * program that calls them still works. nn_dist_available() says which build this is.
 *
 * Why the row counts: each rank's loss is the mean over its own rows; the mean over the
 * global batch of B rows is sum_r (count_r / B) * mean_r, so nn_dist_average_grads scales
 * this rank's gradient by count_r / B and sums over the ranks. With equal shards that is the
 * plain average of the ranks' gradients.
 *
 * Errors: every MPI call's result is checked; a failure prints which call on which rank and
 * ends the whole job (MPI_Abort), so no rank waits forever for a dead peer. A rank that stops
 * without nn_dist_finalize (a crash, exit(1)) makes mpirun end the others. A peer that hangs
 * without dying is not detected by MPI itself: `mpirun --timeout SECONDS` ends such a job
 * (docs/en/ch07-data-parallel.md).
 */
#ifndef NN_TRAIN_DATA_PARALLEL_H
#define NN_TRAIN_DATA_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/model.h"

/* Start (MPI_Init) and stop (MPI_Finalize). Call init once, before the other functions, with
 * main's argc/argv (or NULL, NULL). Returns 0, or -1 with nn_last_error() set. */
int nn_dist_init(int *argc, char ***argv);
void nn_dist_finalize(void);

bool nn_dist_available(void);  /* true when built with MPI (make MPI=1) */
int nn_dist_rank(void);        /* this process: 0 .. size-1 (0 before init) */
int nn_dist_size(void);        /* how many processes (1 before init or without MPI) */

/* Rank 0's parameter block to every rank, so that all start from the same weights. */
int nn_dist_broadcast_params(nn_model *m);
/* The gradient of a loss that is the mean over my_rows rows (this rank's shard) becomes, on
 * every rank, the gradient of the mean over all global_rows rows: grad <- sum over ranks of
 * (my_rows / global_rows) * grad. One all-reduce of the model's whole gradient block (frozen
 * parameters included: their gradient is zero). Refuses counts that do not add up. */
int nn_dist_average_grads(nn_model *m, int my_rows, int global_rows);
/* values[i] <- sum over ranks of values[i] (losses, counts of correct answers, ...). */
int nn_dist_sum(double *values, int n);
/* Blocks until every rank has arrived (for timing). */
int nn_dist_barrier(void);
/* End the whole job now with `code` (MPI_Abort; exit(code) without MPI). */
void nn_dist_abort(int code);

/* The rows of a batch (or a data set) of n that rank `rank` of `size` owns: contiguous, and
 * sizes differ by at most one (the first n % size ranks get one more). */
typedef struct nn_dist_shard {
    int begin;
    int count;
} nn_dist_shard;
nn_dist_shard nn_dist_shard_of(int n, int rank, int size);

/* Seconds this process has spent inside the functions above (communication and waiting for
 * the slowest rank), since init: how much of a step the all-reduce costs. */
double nn_dist_comm_seconds(void);

#endif
