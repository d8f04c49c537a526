/* examples/ch07_ring_allreduce/ring_allreduce.c — the ring all-reduce, step by step.
 *
 * Data parallelism (数据并行, chapter 7): every process computes the gradient of its own shard
 * of the batch, and before each optimizer step all of them must end up with the SUM (then
 * the average) of everybody's gradient. That collective is called all-reduce. The library
 * calls MPI_Allreduce for it (nn_dist_average_grads); this program shows, in one process and
 * without MPI, what a good all-reduce does inside: the ring.
 *
 * N processes stand in a ring, each sends only to its right neighbour. Every vector is cut
 * into N chunks (sizes differ by at most one, like nn_dist_shard_of's rows).
 *   reduce-scatter, N-1 steps: at step s process p sends chunk (p - s) mod N to p + 1, who
 *       ADDS it to its own copy. A chunk travels once around the ring collecting one more
 *       process's numbers at each hop; afterwards process p holds the finished sum of chunk
 *       (p + 1) mod N.
 *   all-gather, N-1 steps: at step s process p sends chunk (p + 1 - s) mod N to p + 1, who
 *       COPIES it. The finished chunks go around once more, and everybody has everything.
 * Every step, all N processes send at the same time (one chunk each), so no link idles.
 *
 * Bytes: each process sends 2(N-1) chunks of S/N bytes, 2(N-1)/N * S in all, under 2 S
 * whatever N is: more processes mean more steps but smaller chunks. The naive way (everyone
 * sends its whole vector to rank 0, rank 0 adds and sends the sum back) moves the same total,
 * but all of it through rank 0: its link carries (N-1) S each way, and grows with N.
 * Cost model (α: latency per message, β: bandwidth):
 *   ring   T = 2(N-1) α + 2(N-1)/N · S/β        naive  T = 2(N-1) α + 2(N-1) · S/β
 *
 *   ring_allreduce [--quick | --full] [--procs N] [--len L] [--bytes S] [--seed N]
 *   default 4 processes with 8 numbers each; --quick 3 with 6; --full 8 with 16. The numbers
 *   are small random integers from --seed (default 42), kept integers so the sums are exact.
 *   Writes no files. Exits 1 if a process ends with a vector that is not the elementwise sum.
 */
#include <nn.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PROCS = 16, MAX_LEN = 64 };
#define ELEM_BYTES ((int)sizeof(int32_t)) /* 4 bytes, the size of one float32 gradient */

typedef struct ring {
    int n;                                /* processes, 0 .. n-1; p sends to (p + 1) % n */
    int len;                              /* numbers per vector */
    int begin[MAX_PROCS + 1];             /* chunk c is [begin[c], begin[c + 1]) */
    int32_t buf[MAX_PROCS][MAX_LEN];      /* each process's vector, changed in place */
    int summed[MAX_PROCS][MAX_PROCS];     /* how many processes' numbers chunk c of p holds */
    long long bytes_sent[MAX_PROCS];
} ring;

/* A chunk on the wire: copied out of the sender before anyone receives, as if all N
 * messages of a step travel at the same time. */
typedef struct message {
    int chunk;
    int summed;
    int32_t values[MAX_LEN];
} message;

static int mod(int a, int n) { return ((a % n) + n) % n; }
static int chunk_len(const ring *r, int c) { return r->begin[c + 1] - r->begin[c]; }

/* Cut len numbers into n contiguous chunks; the first len % n chunks get one more. */
static void cut_chunks(ring *r) {
    int base = r->len / r->n, extra = r->len % r->n;
    r->begin[0] = 0;
    for (int c = 0; c < r->n; c++) r->begin[c + 1] = r->begin[c] + base + (c < extra ? 1 : 0);
}

static void print_chunk(const ring *r, const int32_t *v, int c) {
    printf("[");
    for (int i = r->begin[c]; i < r->begin[c + 1]; i++) printf("%3d", (int)v[i]);
    printf("]");
}

/* Every process's buffer, chunk by chunk; (k) after a chunk: it holds the sum of k
 * processes' numbers, (N) is finished. '*' marks the chunk that changed in this step. */
static void print_buffers(const ring *r, const int *changed) {
    for (int p = 0; p < r->n; p++) {
        printf("    P%-2d", p);
        for (int c = 0; c < r->n; c++) {
            printf(" %c", changed && changed[p] == c ? '*' : ' ');
            print_chunk(r, r->buf[p], c);
            printf("(%d)", r->summed[p][c]);
        }
        printf("\n");
    }
}

/* One step: every process p sends chunk chunk_of(p) to p + 1 at once. The reduce-scatter
 * receiver adds the chunk to its own, the all-gather receiver overwrites its copy. */
static void ring_step(ring *r, int step, bool reduce, bool show) {
    message msg[MAX_PROCS];
    int changed[MAX_PROCS];
    for (int p = 0; p < r->n; p++) { /* 1. everybody sends ... */
        int c = reduce ? mod(p - step, r->n) : mod(p + 1 - step, r->n);
        msg[p].chunk = c;
        msg[p].summed = r->summed[p][c];
        memcpy(msg[p].values, r->buf[p], sizeof(int32_t) * (size_t)r->len);
        r->bytes_sent[p] += (long long)chunk_len(r, c) * ELEM_BYTES;
        if (show) {
            printf("    P%d -> P%d  chunk %d ", p, mod(p + 1, r->n), c);
            print_chunk(r, msg[p].values, c);
            printf("%s", p % 2 == 1 || p == r->n - 1 ? "\n" : "    ");
        }
    }
    for (int p = 0; p < r->n; p++) { /* 2. ... then everybody receives from its left */
        const message *m = &msg[mod(p - 1, r->n)];
        int c = m->chunk;
        for (int i = r->begin[c]; i < r->begin[c + 1]; i++)
            r->buf[p][i] = reduce ? r->buf[p][i] + m->values[i] : m->values[i];
        r->summed[p][c] = reduce ? r->summed[p][c] + m->summed : m->summed;
        changed[p] = c;
    }
    if (show) {
        printf("  after:\n");
        print_buffers(r, changed);
    }
}

/* The cost model's time for S bytes on N processes: the ring, and the naive exchange through
 * rank 0 (which receives N-1 vectors, then sends N-1 back, one message after another). */
static double ring_seconds(double S, int N, double alpha, double beta) {
    return 2.0 * (N - 1) * alpha + 2.0 * (N - 1) / N * S / beta;
}
static double naive_seconds(double S, int N, double alpha, double beta) {
    return 2.0 * (N - 1) * (alpha + S / beta);
}

typedef struct network {
    const char *name;
    double beta;  /* bytes per second */
    double alpha; /* seconds per message: the software stack and the wire */
} network;

/* Typical figures, not measurements: Ethernet with MPI over TCP; an InfiniBand-class
 * network (RDMA) for comparison. */
static const network links[] = {
    {"1 GbE (1 Gbit/s, TCP)", 125e6, 50e-6},
    {"10 GbE (10 Gbit/s, TCP)", 1.25e9, 20e-6},
    {"InfiniBand-class 100 Gbit/s", 12.5e9, 2e-6},
};

/* "827.69 kB": b bytes in the unit that fits, into buf (at least 16 chars). */
static const char *format_bytes(char *buf, double b) {
    if (b >= 1e9) snprintf(buf, 16, "%.2f GB", b / 1e9);
    else if (b >= 1e6) snprintf(buf, 16, "%.2f MB", b / 1e6);
    else if (b >= 1e3) snprintf(buf, 16, "%.2f kB", b / 1e3);
    else snprintf(buf, 16, "%.0f B", b);
    return buf;
}

static void print_ms(double s) { printf("%9.2f ms", 1e3 * s); }

int main(int argc, char **argv) {
    bool quick = false, full = false;
    int N = 4, L = 8;
    float model_bytes = 4e6f; /* 1M float32 parameters: the size of their gradient */
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "3 processes with 6 numbers each (for the tests)"),
        NN_OPT_FLAG("--full", &full, "8 processes with 16 numbers each"),
        NN_OPT_INT("--procs", &N, 2, MAX_PROCS, "simulated processes in the ring"),
        NN_OPT_INT("--len", &L, 2, MAX_LEN, "numbers per vector (at least --procs)"),
        NN_OPT_FLOAT("--bytes", &model_bytes, 1, 1e12,
                     "gradient size for the cost model, in bytes (4e6: 1M float32 parameters)"),
        NN_OPT_SEED(&seed),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "The ring all-reduce step by step, simulated in one process: N processes,\n"
                     "each vector cut into N chunks, N-1 reduce-scatter steps then N-1 all-gather\n"
                     "steps; the bytes each process sends against a naive exchange through rank 0,\n"
                     "and a latency/bandwidth cost model for a gradient of --bytes bytes.",
                     opts, nopt);
    if (!nn_option_given(opts, nopt, "--procs")) N = quick ? 3 : full ? 8 : 4;
    if (!nn_option_given(opts, nopt, "--len")) L = quick ? 6 : full ? 16 : 8;
    if (L < N) { /* a usage error like those of nn_parse_options: exit 2 */
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        fprintf(stderr, "%s: --len %d is less than --procs %d: every process needs a chunk\n"
                "usage: %s [options]\n'%s --help' lists the options with their meaning, range "
                "and default.\n", prog, L, N, prog, prog);
        return 2;
    }

    printf("chapter 7: the ring all-reduce (环形全归约), simulated in one process\n");
    printf("seed %llu (the starting numbers)%s\n\n", (unsigned long long)seed,
           quick ? " (--quick)" : full ? " (--full)" : "");
    nn_rng rng;
    nn_rng_seed(&rng, seed);

    static ring r; /* about 5 kB: static keeps it off the stack */
    memset(&r, 0, sizeof r);
    r.n = N, r.len = L;
    cut_chunks(&r);
    int64_t want[MAX_LEN] = {0};
    for (int p = 0; p < N; p++) {
        for (int i = 0; i < L; i++) {
            r.buf[p][i] = (int32_t)nn_rng_int(&rng, 10); /* 0 .. 9: "process p's gradient" */
            want[i] += r.buf[p][i];
        }
        for (int c = 0; c < N; c++) r.summed[p][c] = 1;
    }

    printf("%d processes P0 .. P%d in a ring (each sends only to its right neighbour, P%d -> P0),\n"
           "each with %d numbers (its gradient, %d bytes each), cut into %d chunks of",
           N, N - 1, N - 1, L, ELEM_BYTES, N);
    for (int c = 0; c < N; c++) printf(" %d", chunk_len(&r, c));
    printf(" numbers.\n(k) after a chunk: the sum of k processes' numbers; (%d) is finished.\n\n", N);
    print_buffers(&r, NULL);
    printf("  the elementwise sum every process must end with:\n    sum  ");
    for (int c = 0; c < N; c++) {
        printf("%s[", c ? "     " : "");
        for (int i = r.begin[c]; i < r.begin[c + 1]; i++) printf("%3lld", (long long)want[i]);
        printf("]");
    }
    printf("\n");

    int steps = 0;
    printf("\n== phase 1: reduce-scatter, %d steps: Pp sends chunk (p - s) mod %d, the receiver ADDS ==\n",
           N - 1, N);
    for (int s = 0; s < N - 1; s++, steps++) {
        printf("\n  step %d of %d (reduce-scatter %d/%d):\n", steps + 1, 2 * (N - 1), s + 1, N - 1);
        ring_step(&r, s, true, true);
    }
    printf("\n  now P%d holds the finished chunk %d, P%d chunk %d, ...: each chunk is finished\n"
           "  on exactly one process (P p owns chunk (p + 1) mod %d).\n", 0, 1 % N, 1, 2 % N, N);

    printf("\n== phase 2: all-gather, %d steps: Pp sends chunk (p + 1 - s) mod %d, the receiver COPIES ==\n",
           N - 1, N);
    for (int s = 0; s < N - 1; s++, steps++) {
        printf("\n  step %d of %d (all-gather %d/%d):\n", steps + 1, 2 * (N - 1), s + 1, N - 1);
        ring_step(&r, s, false, true);
    }

    /* ---- the check: every process has the elementwise sum ---- */
    int wrong = 0;
    for (int p = 0; p < N; p++)
        for (int i = 0; i < L; i++)
            if (r.buf[p][i] != want[i]) wrong++;
    bool ok = wrong == 0;
    printf("\ncheck: every process holds the elementwise sum: %s (%d wrong numbers)\n",
           ok ? "yes" : "NO", wrong);
    printf("(data parallelism then divides by %d, or weighs each shard by its rows / B: "
           "nn_dist_average_grads)\n", N);

    /* ---- bytes ---- */
    long long vec_bytes = (long long)L * ELEM_BYTES, most = 0, least = -1;
    for (int p = 0; p < N; p++) {
        if (r.bytes_sent[p] > most) most = r.bytes_sent[p];
        if (least < 0 || r.bytes_sent[p] < least) least = r.bytes_sent[p];
    }
    double formula = 2.0 * (N - 1) / N * (double)vec_bytes;
    printf("\n== bytes sent (a vector is %d x %d = %lld bytes) ==\n", L, ELEM_BYTES, vec_bytes);
    printf("  ring:  each process sends %d chunks: ", 2 * (N - 1));
    if (most == least) printf("%lld bytes each", most);
    else printf("%lld to %lld bytes (the chunks differ by one number)", least, most);
    printf("; 2(N-1)/N x %lld = %.1f (%.2f x the vector)\n", vec_bytes, formula,
           (double)most / (double)vec_bytes);
    printf("  naive: P1 .. P%d send their vector to P0 (%lld bytes each), P0 sends the sum back\n"
           "         to each: P0 sends %lld and receives %lld bytes (%d x the vector)\n",
           N - 1, vec_bytes, (N - 1) * vec_bytes, (N - 1) * vec_bytes, N - 1);
    printf("  both move 2(N-1) x %lld = %lld bytes in all; the ring spreads them evenly over the\n"
           "  links, the naive way squeezes them through P0's link.\n", vec_bytes,
           2LL * (N - 1) * vec_bytes);
    printf("  the busiest process sends, in vectors (ring 2(N-1)/N, naive N-1):\n");
    printf("      N:     ");
    static const int ns[] = {2, 4, 8, 16, 64, 1024};
    for (int k = 0; k < NN_COUNTOF(ns); k++) printf(" %7d", ns[k]);
    printf("\n      ring:  ");
    for (int k = 0; k < NN_COUNTOF(ns); k++) printf(" %7.3f", 2.0 * (ns[k] - 1) / ns[k]);
    printf("\n      naive: ");
    for (int k = 0; k < NN_COUNTOF(ns); k++) printf(" %7d", ns[k] - 1);
    printf("\n  why the ring stays under 2x: 2(N-1) steps of one chunk of S/N bytes. Twice as many\n"
           "  processes make twice as many steps, but chunks half as big. In the reduce-scatter a\n"
           "  process passes on N-1 of its N chunks (partial sums), in the all-gather N-1 finished\n"
           "  ones: just under one vector per phase, however many processes share the work.\n");

    /* ---- the cost model ---- */
    double S = model_bytes;
    printf("\n== cost model: T = 2(N-1) α + 2(N-1)/N · S/β   (α latency per message, β bandwidth) ==\n");
    char text[2][16];
    printf("  gradient S = %s (%.3gM float32 parameters), N = %d processes\n",
           format_bytes(text[0], S), S / 4e6, N);
    /* (β and α take two bytes each in UTF-8, so this header is spaced by hand) */
    printf("  link                                      β        α         ring   (latency)       naive\n");
    double ring_ms[NN_COUNTOF(links)];
    for (int k = 0; k < NN_COUNTOF(links); k++) {
        const network *lk = &links[k];
        double t = ring_seconds(S, N, lk->alpha, lk->beta);
        ring_ms[k] = 1e3 * t;
        printf("  %-30s %10s/s %5.0f µs ", lk->name, format_bytes(text[0], lk->beta),
               1e6 * lk->alpha);
        print_ms(t);
        print_ms(2.0 * (N - 1) * lk->alpha);
        print_ms(naive_seconds(S, N, lk->alpha, lk->beta));
        printf("\n");
    }
    printf("  the ring on 10 GbE as N grows (the bandwidth part levels off at 2 S/β, the latency\n"
           "  part grows with N):\n     ");
    for (int k = 0; k < NN_COUNTOF(ns); k++) printf(" N=%-4d", ns[k]);
    printf("\n     ");
    for (int k = 0; k < NN_COUNTOF(ns); k++)
        printf(" %6.2f", 1e3 * ring_seconds(S, ns[k], links[1].alpha, links[1].beta));
    printf("  ms\n");
    printf("  latency dominates when a chunk S/N is below α·β (%s on 1 GbE, %s on 10 GbE):\n",
           format_bytes(text[0], links[0].alpha * links[0].beta),
           format_bytes(text[1], links[1].alpha * links[1].beta));
    printf("  small gradients should be sent together in one buffer (buckets), not tensor by tensor.\n"
           "  The all-reduce costs the same per step whatever the batch, so bigger batches (more\n"
           "  compute per step) shrink its share, and sending buckets while backward still runs\n"
           "  hides it behind compute.\n");

    /* bytes_sent_per_proc: the most any process sent (they differ when len % procs != 0) */
    printf("result: procs=%d len=%d steps=%d vector_bytes=%lld bytes_sent_per_proc=%lld "
           "ratio=%.3f naive_root_bytes=%lld model_bytes=%.0f ring_ms_1gbe=%.2f "
           "ring_ms_10gbe=%.2f ok=%d\n",
           N, L, steps, vec_bytes, most, (double)most / (double)vec_bytes,
           (N - 1) * vec_bytes, S, ring_ms[0], ring_ms[1], ok);
    return ok ? 0 : 1;
}
