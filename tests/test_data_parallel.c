/* tests/test_data_parallel.c — data parallelism (nn/train/data_parallel.h) in one process: the
 * shards of a batch, the weighting of a shard's gradient, the sums, and the errors. The
 * library here is the plain build (a job of one process) or, under `make MPI=1`, the MPI one
 * run without mpirun (Open MPI then starts a job of one). Both must give these answers. The
 * weighting of unequal shards and the equality with one process need several processes:
 * tests/mpi/data_parallel_equal.c (make MPI=1 test-mpi). */
#include "testing.h"

/* Init once for the whole program (MPI cannot start again after MPI_Finalize). */
static int setup_dist(void **state) {
    (void)state;
    return nn_dist_init(NULL, NULL);
}
static int teardown_dist(void **state) {
    (void)state;
    nn_dist_finalize();
    return 0;
}

/* Every row of every n belongs to exactly one rank, in order, sizes within one of another. */
static void test_shards_cover_the_batch_once(void **state) {
    (void)state;
    for (int size = 1; size <= 5; size++)
        for (int n = 0; n <= 13; n++) {
            int next = 0, lo = n, hi = 0;
            for (int r = 0; r < size; r++) {
                nn_dist_shard s = nn_dist_shard_of(n, r, size);
                assert_int_equal(s.begin, next); /* contiguous, rank order */
                next += s.count;
                lo = s.count < lo ? s.count : lo;
                hi = s.count > hi ? s.count : hi;
            }
            assert_int_equal(next, n);
            assert_true(hi - lo <= 1);
        }
    /* 10 rows over 3 ranks: 4, 3, 3 (the first n % size ranks get the extra row) */
    assert_int_equal(nn_dist_shard_of(10, 0, 3).count, 4);
    assert_int_equal(nn_dist_shard_of(10, 1, 3).begin, 4);
    assert_int_equal(nn_dist_shard_of(10, 2, 3).count, 3);
}

static void test_one_process_job(void **state) {
    (void)state;
    assert_int_equal(nn_dist_rank(), 0);
    assert_int_equal(nn_dist_size(), 1);
    double v[3] = {1.5, -2.0, 7.0};
    assert_int_equal(nn_dist_sum(v, 3), 0);   /* a sum over one rank: unchanged */
    assert_true(v[0] == 1.5 && v[1] == -2.0 && v[2] == 7.0);
    assert_int_equal(nn_dist_sum(NULL, 0), 0);
    assert_int_equal(nn_dist_barrier(), 0);
    assert_true(nn_dist_comm_seconds() >= 0.0);
}

/* The whole batch on one rank: the gradient stays as it is, and the weights broadcast from
 * rank 0 to itself are unchanged. */
static void test_average_of_one_is_the_gradient(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", 1, (int[]){5}, true);
    for (int i = 0; i < 5; i++) w->data[i] = 0.5f * i, m->grad[i] = 1.0f - i;
    assert_int_equal(nn_dist_broadcast_params(m), 0);
    assert_int_equal(nn_dist_average_grads(m, 8, 8), 0);
    for (int i = 0; i < 5; i++) {
        assert_true(w->data[i] == 0.5f * i);
        assert_true(m->grad[i] == 1.0f - i);
    }
    nn_model_free(m);
}

static void test_errors(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_dist_shard_of(10, 3, 3), "nn_dist_shard_of", "rank = 3");
    EXPECT_NN_ERROR(nn_dist_shard_of(-1, 0, 1), "n = -1");
    EXPECT_NN_ERROR(nn_dist_shard_of(4, 0, 0), "size = 0");
    nn_model *m = nn_model_new();
    nn_model_param(m, "w", 1, (int[]){2}, true);
    EXPECT_NN_ERROR(nn_dist_average_grads(m, 5, 4), "my_rows = 5", "global_rows = 4");
    EXPECT_NN_ERROR(nn_dist_average_grads(m, 1, 0), "global_rows = 0");
    /* one process holding 3 of 4 rows: the shards do not cover the batch */
    EXPECT_NN_ERROR(nn_dist_average_grads(m, 3, 4), "add up to 3, not 4");
    EXPECT_NN_ERROR(nn_dist_average_grads(NULL, 1, 1), "nn_dist_average_grads");
    EXPECT_NN_ERROR(nn_dist_sum(NULL, 2), "n = 2");
    EXPECT_NN_ERROR(nn_dist_broadcast_params(NULL), "test_data_parallel.c:"); /* your line */
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_shards_cover_the_batch_once),
        NN_TEST(test_one_process_job),
        NN_TEST(test_average_of_one_is_the_gradient),
        NN_TEST(test_errors),
    };
    return cmocka_run_group_tests(tests, setup_dist, teardown_dist);
}
