/* examples/ch07_data_parallel/data_parallel.c — data parallelism (数据并行) on Open MPI:
 * chapter 3's CNN (or chapter 5's tiny GPT) trained by 1, 2 or 4 processes at once, with the
 * same loss curve as one process.
 *
 * Every process (rank) holds the whole model. Each step there is ONE global batch of B
 * pictures (or text windows), the same on every rank: each rank shuffles with the same seed
 * and so walks the data in the same order. Rank r takes only its rows of it
 * (nn_dist_shard_of: B / N rows, contiguous), computes the mean loss over them and its
 * gradient, and then the ranks all-reduce the gradients (nn_dist_average_grads, one
 * MPI_Allreduce of the model's whole gradient block):
 *
 *   mean over the B rows = sum over ranks r of (rows_r / B) * (mean over rank r's rows)
 *
 * so every rank holds the gradient one process would have computed on the whole batch,
 * takes the same optimizer step and keeps the same weights. The loss curve is therefore the
 * single-process one up to float rounding (the sums over the batch are added in another
 * order), whatever the number of processes: compare two runs with --compare-file. Training
 * amplifies any difference, rounding too: the GPT's curves stay within 1e-5 of each other,
 * the CNN's (Adam at a larger learning rate, ReLU and max-pool choices that can flip) for
 * the first 70 steps or so, after which they are two equally good trainings.
 *
 *   make MPI=1 && mpirun -np 2 -x OMP_NUM_THREADS=1 \
 *       build/mpi/examples/ch07_data_parallel/data_parallel [options]
 * (one OpenMP thread per process, so that N processes do not fight over the cores; as root
 * Open MPI also wants OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, and
 * --oversubscribe to start more processes than there are cores)
 *   data_parallel [--quick | --full] [--model cnn|gpt] [--batch B] [--steps N] [--seed N]
 *                 [--out DIR] [--compare-file CSV] [--train N] [--lr X] [--dropout X]
 *                 [--data DIR] [--fail-rank R]                  (--help lists them all)
 *
 *   --quick   a few seconds: 640 pictures (or a small GPT), 20 steps (the smoke tests)
 *   default   the CNN on 12,000 Fashion-MNIST pictures, 600 steps of 64 (3.2 epochs),
 *             tested on 2,000 test pictures (about half a minute on two cores); the GPT:
 *             chapter 5's default model, 150 steps of 64 windows (about a minute)
 *   --full    the CNN on 59,500 pictures (all but the 500 that fashion_open keeps aside)
 *             for 2 epochs (1,858 steps), tested on all 10,000; the GPT for 1,000 steps
 * Without Open MPI (the plain `make`) the same program runs as one process; built with
 * `make MPI=1` it also runs as one when started without mpirun.
 *
 * Printed: the global batch's loss every few steps (each rank's count-weighted mean, summed
 * over the ranks with nn_dist_sum), at the end the test accuracy (CNN) or validation loss
 * (GPT), both evaluated with the test set shared out among the ranks; pictures (tokens) per
 * second; the time of a step spent computing and spent communicating (nn_dist_comm_seconds),
 * the latter split into waiting for the slowest rank (a barrier before the all-reduce, only
 * to measure it) and the all-reduce itself. Rank 0 writes the loss of every
 * step to DIR/ch07_<model>_loss_np<N>.csv and the model to DIR/ch07_<model>.nnck; after a
 * barrier every rank loads the checkpoint back and checks that it equals its own weights.
 *
 * Dropout is off by default: with dropout each rank draws its own random masks for its rows,
 * so the curves of -np 1 and -np 2 would agree only on average, not step for step.
 * A rank that fails (it cannot read the data, or --fail-rank R asks rank R to fail at step 3)
 * says so and calls nn_dist_abort, which ends the whole job instead of leaving the other
 * ranks waiting for it forever. Exit status: 0; 1 when a file cannot be read or written or
 * the checkpoint does not load back equal; 2 for a usage error.
 */
#include "../common/fashion_nets.h"
#include "../common/gpt_train.h"

#include <errno.h>
#include <stdarg.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_BATCH 4096
#define MAX_STEPS 1000000

/* ---- one program, N processes: rank 0 speaks, any rank may fail --------------------------- */

/* printf on rank 0 only: the others compute the same numbers and would repeat every line. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    if (nn_dist_rank() != 0) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* This rank cannot go on: say which rank and why, then end the whole job (the others would
 * otherwise wait in their next all-reduce for a rank that never comes). */
static void rank_fails(const char *what, const char *why) {
    fflush(stdout);
    fprintf(stderr, "data_parallel: rank %d of %d: %s: %s; ending the job\n", nn_dist_rank(),
            nn_dist_size(), what, why);
    nn_dist_abort(1);
}

/* ---- the two models as the training loop sees them ---------------------------------------- */

typedef struct trainee {
    bool gpt;               /* false: chapter 3's CNN on pictures; true: chapter 5's GPT */
    nn_model *model;        /* the parameters (the same on every rank) */
    int B;                  /* the global batch: pictures or windows per step */
    /* the CNN */
    fashion_net cnn;
    nn_dataset train, test;
    const char *data_name;  /* "fashion-mnist" or "synthetic" */
    nn_rng order;           /* the shuffles: the same stream on every rank */
    int *labels;            /* B labels of one batch */
    /* the GPT */
    nn_gpt *g;
    poems po;
    nn_token_span tr, va;
    nn_rng windows;         /* where each batch's windows start: the same on every rank */
    int *x, *y;             /* B windows of T ids and their targets */
} trainee;

/* The loss of MY rows of global batch `step`, the mean over those rows. Every rank prepares
 * the same global batch (the same shuffle, the same window starts) and uses only its shard. */
static nn_tensor *shard_loss(trainee *w, int step, nn_dist_shard mine) {
    if (w->gpt) {
        int T = w->g->cfg.context;
        nn_text_random_batch(w->tr.ids, w->tr.n, w->B, T, &w->windows, w->x, w->y);
        nn_tensor *logits = nn_gpt_forward(w->g, w->x + (size_t)mine.begin * T, mine.count, T);
        return nn_cross_entropy_loss(logits, w->y + (size_t)mine.begin * T);
    }
    /* Full batches only (the last few pictures of an epoch wait for the next shuffle), so
     * every step's global batch has exactly B rows. */
    int per_epoch = w->train.n / w->B, k = step % per_epoch;
    if (k == 0) nn_dataset_shuffle(&w->train, &w->order);
    nn_tensor *x = nn_dataset_batch(&w->train, k * w->B + mine.begin, mine.count, w->labels);
    return nn_cross_entropy_loss(fashion_forward(&w->cnn, x, false, NULL), w->labels);
}

/* ---- evaluation, the test set shared out among the ranks --------------------------------- */

/* Accuracy and mean loss on the test set: each rank scores its contiguous shard of the
 * pictures, and one nn_dist_sum adds up the right answers and the losses. */
static double cnn_test_accuracy(trainee *w, double *loss_out) {
    bool was_grad = nn_set_grad_enabled(false), was_train = nn_set_training(false);
    const nn_dataset *ds = &w->test;
    nn_dist_shard mine = nn_dist_shard_of(ds->n, nn_dist_rank(), nn_dist_size());
    enum { CHUNK = 500 };
    int labels[CHUNK], pred[CHUNK];
    double sums[2] = {0.0, 0.0};   /* right answers, summed loss */
    for (int s = mine.begin; s < mine.begin + mine.count; s += CHUNK) {
        int n = mine.begin + mine.count - s < CHUNK ? mine.begin + mine.count - s : CHUNK;
        nn_tensor *logits = fashion_forward(&w->cnn, nn_dataset_batch(ds, s, n, labels), false,
                                            NULL);
        sums[1] += (double)nn_item(nn_cross_entropy_loss(logits, labels)) * n;
        nn_argmax_rows(logits, pred);
        for (int i = 0; i < n; i++) sums[0] += pred[i] == labels[i];
        nn_graph_clear();
    }
    nn_dist_sum(sums, 2);
    nn_set_grad_enabled(was_grad);
    nn_set_training(was_train);
    *loss_out = sums[1] / ds->n;
    return sums[0] / ds->n;
}

/* Chapter 5's validation loss (gpt_span_loss: windows of T characters overlapping by half,
 * each scoring its second half, the first window all of it, so every character is predicted
 * once), with the windows shared out among the ranks. Window w starts at w * T/2. */
static double gpt_val_loss(trainee *w) {
    bool was_grad = nn_set_grad_enabled(false), was_train = nn_set_training(false);
    nn_gpt *g = w->g;
    const nn_token_span span = w->va;
    int T = g->cfg.context, V = g->cfg.vocab, half = T / 2 > 0 ? T / 2 : 1;
    int windows = 0;   /* the same loop as gpt_span_loss, counting only */
    for (int s = 0, scored = 0; scored < span.n - 1; s += half, windows++)
        scored = s + (span.n - 1 - s < T ? span.n - 1 - s : T);
    nn_dist_shard mine = nn_dist_shard_of(windows, nn_dist_rank(), nn_dist_size());
    enum { GROUP = 16 };   /* full windows per forward pass */
    int *ids = malloc(sizeof(int) * (size_t)GROUP * T), first_w[GROUP];
    double sums[2] = {0.0, 0.0};   /* nats, characters scored */
    for (int w0 = mine.begin; w0 < mine.begin + mine.count;) {
        int t = span.n - 1 - w0 * half < T ? span.n - 1 - w0 * half : T, rows = 0;
        /* a group of full windows, or the short last window alone */
        while (rows < GROUP && w0 + rows < mine.begin + mine.count) {
            int s = (w0 + rows) * half, len = span.n - 1 - s < T ? span.n - 1 - s : T;
            if (len != t) break;
            memcpy(ids + (size_t)rows * t, span.ids + s, sizeof(int) * (size_t)t);
            first_w[rows] = w0 + rows;
            rows++;
        }
        nn_tensor *lp = nn_log_softmax(nn_gpt_forward(g, ids, rows, t));   /* (rows, t, V) */
        for (int b = 0; b < rows; b++) {
            int s = first_w[b] * half, from = first_w[b] == 0 ? 0 : T - half;
            for (int i = from; i < t; i++)
                sums[0] -= lp->data[((size_t)b * t + i) * V + span.ids[s + i + 1]];
            sums[1] += t - from;
        }
        nn_graph_clear();
        w0 += rows;
    }
    free(ids);
    nn_dist_sum(sums, 2);
    nn_set_grad_enabled(was_grad);
    nn_set_training(was_train);
    return sums[0] / sums[1];
}

/* ---- the loss curve: written by rank 0, compared with another run's ---------------------- */

static int write_curve(const char *dir, const char *file, const double *loss, int steps) {
    char path[4096];
    if (!nn_out_path(path, sizeof path, dir, file)) {
        fprintf(stderr, "could not write %s/%s: %s\n", dir, file, nn_last_error());
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) return fprintf(stderr, "could not write %s: %s\n", path, strerror(errno)), -1;
    fprintf(f, "step,loss\n");
    for (int s = 0; s < steps; s++) fprintf(f, "%d,%.9g\n", s + 1, loss[s]);
    if (fclose(f) != 0)
        return fprintf(stderr, "could not write %s: %s\n", path, strerror(errno)), -1;
    printf("wrote %s (the global batch's loss at every step)\n", path);
    return 0;
}

/* Another run's curve (a file write_curve wrote): loss[s - 1] for step s, NAN where the file
 * has none. The number of steps read, or -1 after a message. */
static int read_curve(const char *path, double *loss, int max_steps) {
    FILE *f = fopen(path, "r");
    if (!f) return fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno)), -1;
    for (int s = 0; s < max_steps; s++) loss[s] = NAN;
    char line[256];
    int n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        int step;
        double v;
        if (lineno == 1 && strncmp(line, "step,loss", 9) == 0) continue;
        if (sscanf(line, "%d,%lf", &step, &v) != 2 || step < 1) {
            fprintf(stderr, "%s:%d: not a line 'step,loss' of a curve this program wrote\n", path,
                    lineno);
            fclose(f);
            return -1;
        }
        if (step <= max_steps) loss[step - 1] = v, n++;
    }
    fclose(f);
    return n;
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *model = "cnn", *out_dir = "out", *compare = NULL, *data_dir = NULL;
    int B = 64, steps = 0, n_train = 12000, fail_rank = -1;
    float lr = 3e-3f, dropout = 0.0f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a few seconds, tiny data (for the tests)"),
        NN_OPT_FLAG("--full", &full,
                    "CNN: 59,500 pictures, 2 epochs, 10,000 tests; GPT: 1,000 steps"),
        NN_OPT_CHOICE("--model", &model, "cnn|gpt",
                      "chapter 3's CNN on Fashion-MNIST or chapter 5's GPT on tang300"),
        NN_OPT_INT("--batch", &B, 1, MAX_BATCH,
                   "B: the GLOBAL batch (pictures or windows per step, over all processes)"),
        NN_OPT_INT("--steps", &steps, 1, MAX_STEPS,
                   "optimizer steps (default: CNN 600, GPT 150; --quick 20; --full CNN 2 "
                   "epochs, GPT 1000)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the loss curve (CSV) and the checkpoint"),
        NN_OPT_STR("--compare-file", &compare, "CSV",
                   "another run's curve (ch07_<model>_loss_np<N>.csv): print the differences"),
        NN_OPT_INT("--train", &n_train, 100, 59500,
                   "CNN: training pictures (640 with --quick, 59500 with --full)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1,
                     "starting learning rate, cosine to 0 (CNN Adam 0.003; with --model gpt "
                     "AdamW 0.002 unless given)"),
        NN_OPT_FLOAT("--dropout", &dropout, 0, 0.9,
                     "CNN dropout (0: with dropout the ranks draw their own masks)"),
        NN_OPT_STR("--data", &data_dir, "DIR",
                   "the Fashion-MNIST folder (none: $NN_FASHION_MNIST_DIR, else "
                   NN_FASHION_MNIST_DIR ")"),
        NN_OPT_INT("--fail-rank", &fail_rank, 0, 1023,
                   "make rank N fail at step 3, to see the whole job end (not hang)"),
    };
    const int nopts = NN_COUNTOF(opts);
    /* The options first, before MPI starts: --help and a usage error exit at once (under
     * mpirun every rank reads the same words, so they all stop alike). */
    nn_parse_options(argc, argv,
                     "Data parallelism: N processes (mpirun -np N) train one model, each on its\n"
                     "shard of every global batch, averaging their gradients before each step,\n"
                     "so the loss curve is the one of a single process. Without mpirun (or\n"
                     "without Open MPI) it runs as one process.",
                     opts, nopts);
    if (quick) full = false;   /* --quick wins */
    bool gpt = strcmp(model, "gpt") == 0;

    if (nn_dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "data_parallel: %s\n", nn_last_error());
        return 1;
    }
    int rank = nn_dist_rank(), size = nn_dist_size();
    if (B < size || fail_rank >= size) {   /* every rank sees the same: all stop alike */
        if (rank == 0) {
            if (B < size)
                fprintf(stderr, "data_parallel: --batch %d is smaller than the %d processes: "
                        "every rank needs at least one row\n", B, size);
            else
                fprintf(stderr, "data_parallel: --fail-rank %d, but the ranks of this job are "
                        "0 .. %d (mpirun -np N starts N)\n", fail_rank, size - 1);
        }
        nn_dist_finalize();
        return 2;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    say("chapter 7: data parallelism (数据并行), %s\n", gpt ? "chapter 5's tiny GPT on poems"
                                                          : "chapter 3's CNN on Fashion-MNIST");
    say("processes: %d (%s), %d thread%s each; seed %llu, mode %s\n", size,
        nn_dist_available() ? "Open MPI" : "built without MPI: one process", threads,
        threads > 1 ? "s" : "", (unsigned long long)seed,
        quick ? "--quick" : full ? "--full" : "default (the docs' table; --full: more data)");

    /* ---- the same model and the same data on every rank ---- */
    trainee w = {.gpt = gpt, .B = B};
    nn_seed(seed);   /* the same initial weights everywhere (the broadcast below makes sure) */
    nn_rng_seed(&w.order, seed + 1), nn_rng_seed(&w.windows, seed + 2);
    if (!gpt) {
        if (!nn_option_given(opts, nopts, "--train"))
            n_train = quick ? 640 : full ? 59500 : n_train;
        int n_val = quick ? 100 : 500, n_test = quick ? 500 : full ? 10000 : 2000;
        if (!nn_option_given(opts, nopts, "--steps"))
            steps = quick ? 20 : full ? 2 * (n_train / B) : 600;
        /* fashion_open also makes a validation split; this program picks no epoch, so it is
         * only a few pictures that are not trained on. */
        nn_dataset val;
        if (fashion_open_sized("data_parallel", data_dir, n_train, n_val, n_test,
                               quick ? 640 : 3000, n_val, quick ? 300 : 1000, &w.train, &val,
                               &w.test, &w.data_name) != 0)
            rank_fails("cannot read the data", "see the message above");
        nn_dataset_free(&val);
        if (w.train.n < B) {
            char why[96];
            snprintf(why, sizeof why, "%d training pictures, fewer than a batch of %d",
                     w.train.n, B);
            rank_fails("too little data", why);
        }
        w.cnn = fashion_cnn_new("CNN", dropout);
        w.model = w.cnn.model;
        w.labels = malloc(sizeof(int) * (size_t)B);
        say("data (%s): %d training pictures, %d test pictures; global batch %d, about %d "
            "per process\n", w.data_name, w.train.n, w.test.n, B, B / size);
        say("model: conv 16@3x3 + relu + maxpool 2 -> conv 32@3x3 + relu + maxpool 2 -> fc 128 "
            "+ relu%s -> fc 10: %zu parameters; Adam, lr %g -> 0 (cosine)\n",
            dropout > 0 ? " + dropout" : "", w.model->count, lr);
    } else {
        if (!nn_option_given(opts, nopts, "--lr")) lr = 2e-3f;
        if (!nn_option_given(opts, nopts, "--steps")) steps = quick ? 20 : full ? 1000 : 150;
        if (poems_open(&w.po, NULL, false, quick ? 150 : 500, seed) != 0)
            rank_fails("cannot read the text", "see the message above");
        w.tr = w.po.train, w.va = w.po.val;
        if (quick && w.va.n > 2000) w.va.n = 2000;   /* --quick: score the first 2,000 only */
        nn_gpt_config cfg = {.vocab = w.po.vocab->size, .dim = 64, .heads = 4, .layers = 2,
                             .context = 32};
        if (quick) cfg.dim = 16, cfg.heads = 2, cfg.layers = 1, cfg.context = 16;
        if (cfg.context > w.va.n - 1) cfg.context = w.va.n - 1;
        w.g = nn_gpt_new(&cfg);
        if (!w.g) rank_fails("cannot build the GPT", nn_last_error());
        w.model = w.g->model;
        int T = cfg.context;
        w.x = malloc(sizeof(int) * (size_t)B * T), w.y = malloc(sizeof(int) * (size_t)B * T);
        say("text: %s, V = %d characters; %d to train on, %d to validate\n", w.po.source,
            cfg.vocab, w.tr.n, w.va.n);
        say("model: GPT, C %d, %d heads, %d block%s, T %d: %zu parameters; global batch %d "
            "windows of %d, AdamW lr %g -> 0 (cosine), clip %.1f\n", cfg.dim, cfg.heads,
            cfg.layers, cfg.layers > 1 ? "s" : "", T, w.model->count, B, T, lr, GPT_CLIP);
    }
    /* Rank 0's weights everywhere. The seed already made them equal; the broadcast is what a
     * program must do anyway, where ranks cannot be trusted to build the same numbers. */
    if (nn_dist_broadcast_params(w.model) != 0)
        rank_fails("nn_dist_broadcast_params", nn_last_error());
    nn_dist_shard mine = nn_dist_shard_of(B, rank, size);
    say("rank 0 takes rows %d .. %d of every global batch of %d\n", mine.begin,
        mine.begin + mine.count - 1, B);

    /* Another run's curve, read before training so that a wrong file fails at once. */
    double *loss = calloc((size_t)steps, sizeof(double)), *other = NULL;
    int other_n = 0;
    if (compare && rank == 0) {
        other = malloc(sizeof(double) * (size_t)steps);
        other_n = read_curve(compare, other, steps);
        if (other_n < 0) rank_fails("--compare-file", "cannot read the curve");
    }

    /* ---- training ---- */
    nn_optim *opt = gpt ? nn_adamw_new(w.model, lr, GPT_WEIGHT_DECAY)
                        : nn_adam_new(w.model, lr, 0.0f);
    int log_every = steps / 10 > 0 ? steps / 10 : 1, logged = 0;
    /* Time of a step = computing + communicating (nn_dist_comm_seconds: every nn_dist_* call).
     * The communication is split in two: waiting at a barrier until the slowest rank has its
     * gradient too (load imbalance: a busy core, a bigger shard), and the all-reduce itself. */
    say("\n%6s %10s %11s %9s %12s %8s   (rank 0, ms per step)\n", "step", "loss", "compute",
        "wait", "all-reduce", "comm %");
    nn_dist_barrier();   /* start the clocks together */
    double wait = 0.0;   /* seconds in the measuring barrier */
    double t_start = nn_seconds(), comm_start = nn_dist_comm_seconds();
    double t_log = t_start, comm_log = comm_start, wait_log = 0.0;
    for (int step = 0; step < steps; step++) {
        if (step == 3 && rank == fail_rank)
            rank_fails("--fail-rank", "failing on purpose at step 3");
        opt->lr = 0.5f * lr * (1.0f + cosf(3.14159265f * (float)step / (float)steps));
        nn_tensor *l = shard_loss(&w, step, mine);
        loss[step] = (double)nn_item(l) * mine.count / B;   /* my part of the batch's mean */
        nn_model_zero_grad(w.model);
        nn_backward(l);
        if (size > 1) {   /* only to measure the wait (the all-reduce would wait anyway) */
            double t0 = nn_seconds();
            nn_dist_barrier();
            wait += nn_seconds() - t0;
        }
        if (nn_dist_average_grads(w.model, mine.count, B) != 0)
            rank_fails("nn_dist_average_grads", nn_last_error());
        /* Clip AFTER averaging: the norm of the global gradient, the same on every rank. */
        if (gpt) nn_clip_grad_norm(w.model, GPT_CLIP);
        nn_optim_step(opt);
        nn_graph_clear();
        if ((step + 1) % log_every == 0 || step + 1 == steps) {
            /* One sum for the steps since the last line: every rank's parts add up to the
             * global batch's loss of each step. */
            nn_dist_sum(loss + logged, step + 1 - logged);
            double now = nn_seconds(), comm = nn_dist_comm_seconds(), n = step + 1 - logged;
            double all = (now - t_log) / n, waited = (wait - wait_log) / n;
            double reduce = (comm - comm_log) / n - waited;
            say("%6d %10.4f %11.2f %9.2f %12.2f %7.1f%%\n", step + 1, loss[step],
                1000.0 * (all - waited - reduce), 1000.0 * waited, 1000.0 * reduce,
                100.0 * (waited + reduce) / all);
            logged = step + 1, t_log = now, comm_log = comm, wait_log = wait;
        }
    }
    /* Each rank's own times; the sums give the means over the ranks. */
    double times[3] = {nn_seconds() - t_start, nn_dist_comm_seconds() - comm_start, wait};
    nn_dist_sum(times, 3);
    double wall = times[0] / size, comm = times[1] / size, waited = times[2] / size;
    double share = 100.0 * comm / wall, wait_share = 100.0 * waited / wall;
    double items = (double)steps * B * (gpt ? w.g->cfg.context : 1);   /* pictures or tokens */
    say("training: %d steps in %.1f s (means over the ranks): %.1f ms a step = %.1f computing "
        "+ %.1f waiting for the slowest rank + %.1f in the all-reduces; communication %.1f%% "
        "of the time (waiting %.1f%%)\n", steps, wall, 1000.0 * wall / steps,
        1000.0 * (wall - comm) / steps, 1000.0 * waited / steps,
        1000.0 * (comm - waited) / steps, share, wait_share);
    say("throughput: %.0f %s per second with %d process%s\n", items / wall,
        gpt ? "tokens" : "pictures", size, size > 1 ? "es" : "");

    double test_acc = NAN, test_loss = NAN, val_loss = NAN;
    if (gpt) {
        val_loss = gpt_val_loss(&w);
        say("validation loss %.4f nats per character (%d characters, shared out among the "
            "ranks)\n", val_loss, w.va.n);
    } else {
        test_acc = cnn_test_accuracy(&w, &test_loss);
        say("test accuracy %.4f (loss %.4f) on %d pictures never trained on (shared out among "
            "the ranks)\n", test_acc, test_loss, w.test.n);
    }

    int failed = 0;   /* on rank 0: files that could not be written or read back */
    char file[64];
    snprintf(file, sizeof file, "ch07_%s_loss_np%d.csv", model, size);
    if (rank == 0) failed += write_curve(out_dir, file, loss, steps) != 0;

    /* ---- the same curve as another run? ----
     * At first the two agree to float rounding (1e-7 or so). Training amplifies any change,
     * a rounding difference too: after some dozens of steps the two runs are two slightly
     * different trainings, equally good. So: the step up to which they agree within 1e-5,
     * the largest difference, and the mean loss of the last steps of each. */
    double max_diff = NAN;
    int agree = 0;
    if (other) {
        max_diff = 0.0;
        int common = 0, tail = 0;
        double tail_this = 0.0, tail_that = 0.0;
        bool apart = false;
        printf("compared with %s:\n  %6s %12s %12s %12s\n", compare, "step", "this run",
               "that run", "|difference|");
        for (int s = 0; s < steps; s++) {
            if (isnan(other[s])) continue;
            double d = fabs(loss[s] - other[s]);
            max_diff = d > max_diff ? d : max_diff, common++;
            apart = apart || d > 1e-5;
            if (!apart) agree = s + 1;
            if (s >= steps - log_every) tail_this += loss[s], tail_that += other[s], tail++;
            if ((s + 1) % log_every == 0 || s + 1 == steps)
                printf("  %6d %12.6f %12.6f %12.3g\n", s + 1, loss[s], other[s], d);
        }
        printf("  within 1e-5 up to step %d; max |loss difference| over %d common steps: %.3g\n",
               agree, common, max_diff);
        if (tail > 0)
            printf("  mean loss of the last %d steps: %.4f (this run), %.4f (that run)\n", tail,
                   tail_this / tail, tail_that / tail);
    }

    /* ---- checkpoint: rank 0 writes, then every rank reads it back ---- */
    char ckpt[4096], name[64];
    snprintf(name, sizeof name, "ch07_%s.nnck", model);
    double save_failed = 0.0;
    if (rank == 0) {
        if (!nn_out_path(ckpt, sizeof ckpt, out_dir, name) || nn_model_save(w.model, ckpt) != 0) {
            fprintf(stderr, "could not save the model: %s\n", nn_last_error());
            save_failed = 1.0;
        }
    }
    nn_dist_sum(&save_failed, 1);   /* also the barrier: nobody reads before rank 0 wrote */
    if (rank != 0) snprintf(ckpt, sizeof ckpt, "%s/%s", out_dir, name);
    const char *ckpt_ok = "failed";
    if (save_failed == 0.0) {
        /* a fresh model of the same architecture, its weights from the file */
        nn_gpt *back_gpt = gpt ? nn_gpt_new(&w.g->cfg) : NULL;
        nn_model *back = gpt ? back_gpt->model : fashion_cnn_new("back", 0.0f).model;
        double bad = 0.0;
        if (nn_model_load(back, ckpt) != 0) {
            fprintf(stderr, "rank %d: cannot load %s: %s\n", rank, ckpt, nn_last_error());
            bad = 1.0;
        } else if (memcmp(back->data, w.model->data, sizeof(float) * w.model->count) != 0) {
            fprintf(stderr, "rank %d: %s differs from this rank's weights\n", rank, ckpt);
            bad = 1.0;
        }
        if (back_gpt) nn_gpt_free(back_gpt);
        else nn_model_free(back);
        nn_dist_sum(&bad, 1);
        ckpt_ok = bad == 0.0 ? "ok" : "failed";
        say("checkpoint %s: written by rank 0, loaded back by %s: %s\n", ckpt,
            size > 1 ? "every rank" : "the one rank",
            bad == 0.0 ? "equal to every rank's weights (ok)" : "DIFFERENT (see above)");
        failed += bad != 0.0;
    } else {
        failed++;
    }

    say("result: model=%s procs=%d steps=%d batch=%d final_loss=%.4f", model, size, steps, B,
        loss[steps - 1]);
    if (gpt) say(" val_loss=%.4f tokens_per_s=%.0f", val_loss, items / wall);
    else say(" test_acc=%.4f images_per_s=%.1f data=%s", test_acc, items / wall, w.data_name);
    say(" ms_per_step=%.1f comm_share=%.1f wait_share=%.1f checkpoint=%s", 1000.0 * wall / steps,
        share, wait_share, ckpt_ok);
    if (other) say(" agree_1e-5_steps=%d max_loss_diff=%.3g", agree, max_diff);
    say("\n");

    nn_optim_free(opt);
    free(loss), free(other);
    if (gpt) {
        nn_gpt_free(w.g);
        free(w.x), free(w.y);
        poems_close(&w.po);
    } else {
        nn_model_free(w.cnn.model);
        free(w.labels);
        nn_dataset_free(&w.train), nn_dataset_free(&w.test);
    }
    nn_graph_release();
    nn_dist_finalize();
    return failed ? 1 : 0;
}
