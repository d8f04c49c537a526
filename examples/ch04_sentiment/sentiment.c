/* examples/ch04_sentiment/sentiment.c — 判断这个词的褒贬: is a phrase positive or negative?
 *
 * The tutorial's second chapter-4 task: 判断这个词的褒贬意思 — the sentiment of a phrase. A word
 * alone is easy (好 good, 讨厌 hate); what makes it a sequence problem is that a word before it
 * can turn it round: 这部电影很好 is positive, 这部电影不好 negative, 我不讨厌它 positive again.
 *
 * The data is made here from templates, nothing is downloaded (a fixed seed, the same set
 * every run): Chinese and English phrases of three kinds,
 *   thing + adjective   这部电影很好 / 这部电影并不好        the movie is very good / is not good
 *   I + verb + object   我喜欢这本书 / 我没有讨厌它           I love the song / I do not like it
 *   person + feeling    我们非常开心 / 她一点也不难过         we are so happy / he is never sad
 * with intensifiers (很, 非常, 真, very, really, so) that keep the label and negations (不,
 * 并不, 没有, 一点也不, 从来不, not, never, do not, don't) that flip it. Label: 1 positive,
 * 0 negative. The split holds out combinations: every (subject or object, sentiment word)
 * pair is either a training pair or a test pair; so the test set asks about "这本书 ... 漂亮"
 * having seen 这本书 with other words and 漂亮 with other subjects. The test set holds every
 * form of its pairs (about half of them negated); training takes every plain form of its
 * pairs but only one negated form each (--train-negations), since in real text negations
 * are rarer than plain statements. (With all of them, each word occurs as often in positive
 * as in negative training phrases and a bag of characters learns nothing at all: about 50%
 * everywhere, try --train-negations 4.)
 *
 * Two models, trained alike (Adam, mini-batches of 32, the same epochs) on the same phrases:
 *
 *   GRU    characters (nn_vocab_build over all phrases: one id per character, Chinese and
 *          English alike) -> embedding (B, T, E) -> GRU over T steps -> h at the phrase's
 *          last character (B, H) -> linear (B, 2) -> softmax
 *   bag    bag of characters: x[v] = how often character v occurs (B, V) -> linear (B, 2)
 *          -> softmax (logistic regression on the same vocabulary). It sees which
 *          characters a phrase holds, not their order.
 *   loss   cross-entropy L = -(1/B) sum log p[label]; ln 2 = 0.693 at an even guess
 *
 * Why the bag fails on negations: its score is a sum, one weight per character. Positive
 * phrases need w(好) > 0 and, negated, w(不) + w(好) < 0; negative ones need w(坏) < 0 and
 * w(不) + w(坏) > 0. No w(不) does both: "不 flips the word after it" is not a sum. The GRU
 * reads the characters in order and can keep "a negation was just read" in its state.
 *
 * Phrases have different lengths. A batch is padded at the end to its longest phrase with a
 * pad id (its own embedding row, after the vocabulary's ids) and the GRU runs over all T
 * steps. The state to classify is h at each phrase's own last character, t = len - 1, not at
 * T - 1: an RNN is causal (h_t depends on the characters 0 .. t only), so the pads after a
 * phrase never change h_{len-1}. The whole output (B, T, H) is viewed as (B*T, H) and one
 * row per phrase, b*T + len_b - 1, is picked with nn_take_rows; backward then sends the
 * gradient into those rows only, and the pad steps get none.
 *
 *   sentiment [--quick | --full] [--epochs N] [--cell gru|lstm] [--hidden N] [--lr X]
 *             [--seed N] [--out DIR]                                (--help lists them)
 *   default  15 epochs, H = 48: a few seconds;  --full 40 epochs;  --quick 3 epochs, H = 16.
 * Writes DIR/ch04_sentiment_accuracy.svg (test accuracy per epoch, both models, all phrases
 * and negations; DIR: out by default). Exit status 1 when it cannot.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED 24
#define BATCH 32
#define CLIP 1.0f
#define MAX_PHRASES 2048
#define MAX_TEXT 64
#define MAX_EPOCHS 1000

/* ---- the data: phrases from templates ------------------------------------------------- */

/* A family of phrases: text = [holder link] mod word [link holder] (holder first or last).
 * The first npos words are positive; mods keep the label, negs flip it. */
typedef struct family {
    const char *name;
    const char *holders[8];
    int nholders;
    bool holder_first;   /* "这部电影" + "很好"; else lead + mod + word + link + holder */
    const char *lead;    /* before mod when the holder comes last: "我", "I " */
    const char *link;    /* between holder and the rest: "", " is ", " " */
    const char *words[8];
    int nwords, npos;
    const char *mods[4];
    int nmods;
    const char *negs[4];
    int nnegs;
} family;

static const family families[] = {
    {"zh thing", {"这部电影", "这本书", "这家餐厅", "这首歌", "这个手机", "今天的天气", "我的工作", "这次旅行"},
     8, true, "", "", {"好", "棒", "有趣", "漂亮", "坏", "差", "无聊", "糟糕"}, 8, 4,
     {"", "很", "非常", "真"}, 4, {"不", "并不", "一点也不", "没有那么"}, 4},
    {"zh verb", {"它", "这部电影", "这本书", "这首歌", "这家餐厅", "我的工作"}, 6, false, "我", "",
     {"喜欢", "爱", "讨厌", "恨"}, 4, 2, {"", "很", "真"}, 3, {"不", "并不", "没有", "从来不"}, 4},
    {"zh feeling", {"我", "他", "她", "我们"}, 4, true, "", "", {"开心", "高兴", "难过", "伤心"}, 4, 2,
     {"", "很", "非常"}, 3, {"不", "并不", "一点也不"}, 3},
    {"en thing", {"the movie", "the book", "the food", "the song", "the phone", "the weather", "my job", "the trip"},
     8, true, "", " is ", {"good", "great", "nice", "fun", "bad", "awful", "boring", "poor"}, 8, 4,
     {"", "very ", "really ", "so "}, 4, {"not ", "never ", "not at all "}, 3},
    {"en verb", {"it", "the movie", "the book", "the song", "the food", "my job"}, 6, false, "I ", " ",
     {"like", "love", "enjoy", "hate", "dislike"}, 5, 3, {"", "really "}, 2,
     {"do not ", "never ", "don't "}, 3},
    {"en feeling", {"I am", "he is", "she is", "we are"}, 4, true, "", " ", {"happy", "glad", "sad", "upset"},
     4, 2, {"", "very ", "so "}, 3, {"not ", "never "}, 2},
};
enum { N_FAMILIES = sizeof families / sizeof families[0] };

typedef struct phrase {
    char text[MAX_TEXT];
    int label;      /* 1 positive, 0 negative */
    bool negated;   /* a negation flips the word's sentiment */
    bool test;      /* its (holder, word) pair is held out */
    int neg_rank;   /* negated phrases: 0, 1, ... in a random order per pair; -1 plain */
} phrase;

/* Every phrase of every family; 25% of each family's (holder, word) pairs go to the test set. */
static int make_phrases(phrase *out, uint64_t seed, int *held_pairs) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int n = 0;
    *held_pairs = 0;
    for (int f = 0; f < N_FAMILIES; f++) {
        const family *F = &families[f];
        int npairs = F->nholders * F->nwords, order[64];
        bool held[64];
        for (int p = 0; p < npairs; p++) order[p] = p;
        nn_rng_shuffle(&rng, order, npairs);
        for (int p = 0; p < npairs; p++) held[order[p]] = p < (npairs + 2) / 4;
        *held_pairs += (npairs + 2) / 4;
        for (int h = 0; h < F->nholders; h++)
            for (int w = 0; w < F->nwords; w++) {
                int rank[4] = {0, 1, 2, 3};
                nn_rng_shuffle(&rng, rank, F->nnegs);
                for (int k = 0; k < F->nmods + F->nnegs; k++) {
                    bool neg = k >= F->nmods;
                    const char *mod = neg ? F->negs[k - F->nmods] : F->mods[k];
                    phrase *ph = &out[n++];
                    if (F->holder_first)
                        snprintf(ph->text, MAX_TEXT, "%s%s%s%s", F->holders[h], F->link, mod,
                                 F->words[w]);
                    else
                        snprintf(ph->text, MAX_TEXT, "%s%s%s%s%s", F->lead, mod, F->words[w],
                                 F->link, F->holders[h]);
                    ph->label = (w < F->npos) != neg;
                    ph->negated = neg;
                    ph->test = held[h * F->nwords + w];
                    ph->neg_rank = neg ? rank[k - F->nmods] : -1;
                }
            }
    }
    return n;
}

/* ---- the two models --------------------------------------------------------------------- */

typedef struct encoded {
    int *ids;   /* the phrase's characters as vocabulary ids */
    int len;
} encoded;

typedef struct rnn_model {
    nn_model *m;
    nn_embedding_layer *embed;   /* vocab + 1 rows: the last one is the pad */
    nn_rnn_layer *cell;
    nn_linear_layer *head;
    int pad;
} rnn_model;

/* Phrases idx[0 .. B) -> logits (B, 2): pad to the longest, run the cell, read each
 * phrase's state at its own last character (see the top of the file). */
static nn_tensor *rnn_forward(const rnn_model *r, const encoded *enc, const int *idx, int B,
                              bool show) {
    int T = 1;
    for (int b = 0; b < B; b++)
        if (enc[idx[b]].len > T) T = enc[idx[b]].len;
    int *ids = malloc((size_t)B * T * sizeof *ids), *last = malloc((size_t)B * sizeof *last);
    for (int b = 0; b < B; b++) {
        const encoded *e = &enc[idx[b]];
        for (int t = 0; t < T; t++) ids[b * T + t] = t < e->len ? e->ids[t] : r->pad;
        last[b] = b * T + e->len - 1;        /* row of (B*T, H) holding h at t = len - 1 */
    }
    nn_tensor *x = nn_embedding_layer_forward(r->embed, ids, B, T);           /* (B, T, E) */
    nn_tensor *hs = nn_rnn_layer_forward(r->cell, x, NULL, NULL);             /* (B, T, H) */
    nn_tensor *h = nn_take_rows(nn_reshape(hs, NN_SHAPE(B * T, r->cell->hidden)), last, B);
    nn_tensor *logits = nn_linear_layer_forward(r->head, h);                  /* (B, 2) */
    if (show) {
        char a[32], b[32], c[32], d[32];
        printf("  shapes (first batch): ids (%d, %d) -> embedding %s -> %s %s -> h at len-1 %s "
               "-> logits %s\n", B, T, nn_shape_str(x, a, sizeof a),
               nn_cell_kind_name(r->cell->kind), nn_shape_str(hs, b, sizeof b),
               nn_shape_str(h, c, sizeof c), nn_shape_str(logits, d, sizeof d));
    }
    free(ids);
    free(last);
    return logits;
}

typedef struct bag_model {
    nn_model *m;
    nn_linear_layer *head;   /* (V, 2) */
    int vocab;
} bag_model;

/* Phrases idx[0 .. B) -> counts (B, V) -> logits (B, 2). */
static nn_tensor *bag_forward(const bag_model *g, const encoded *enc, const int *idx, int B) {
    nn_tensor *x = nn_graph_tensor(NN_SHAPE(B, g->vocab), false);   /* zeros, this step only */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < enc[idx[b]].len; t++) x->data[(size_t)b * g->vocab + enc[idx[b]].ids[t]] += 1.0f;
    return nn_linear_layer_forward(g->head, x);
}

/* Accuracy of logits on idx[0 .. n): all, negated ones, plain ones; p_pos[k] = p(positive). */
typedef struct score {
    float all, neg, plain;
} score;

static score score_logits(nn_tensor *logits, const phrase *ph, const int *idx, int n,
                          float *p_pos) {
    int right[2] = {0, 0}, count[2] = {0, 0};
    for (int k = 0; k < n; k++) {
        float z0 = logits->data[2 * k], z1 = logits->data[2 * k + 1];
        float p = 1.0f / (1.0f + expf(z0 - z1));   /* softmax of two = sigmoid(z1 - z0) */
        if (p_pos) p_pos[k] = p;
        const phrase *q = &ph[idx[k]];
        count[q->negated]++;
        right[q->negated] += (p > 0.5f) == (q->label == 1);
    }
    score s = {(float)(right[0] + right[1]) / (float)n,
               count[1] ? (float)right[1] / (float)count[1] : 0.0f,
               count[0] ? (float)right[0] / (float)count[0] : 0.0f};
    return s;
}

typedef struct which {
    rnn_model *rnn;   /* one of the two */
    bag_model *bag;
} which;

static nn_tensor *forward(which w, const encoded *enc, const int *idx, int B, bool show) {
    return w.rnn ? rnn_forward(w.rnn, enc, idx, B, show) : bag_forward(w.bag, enc, idx, B);
}

/* Loss and scores on idx[0 .. n) without a tape. */
static score evaluate(which w, const encoded *enc, const phrase *ph, const int *idx, int n,
                      float *loss, float *p_pos) {
    bool grad = nn_set_grad_enabled(false);
    int *labels = malloc((size_t)n * sizeof *labels);
    for (int k = 0; k < n; k++) labels[k] = ph[idx[k]].label;
    nn_tensor *logits = forward(w, enc, idx, n, false);
    if (loss) *loss = nn_item(nn_cross_entropy_loss(logits, labels));
    score s = score_logits(logits, ph, idx, n, p_pos);
    nn_set_grad_enabled(grad);
    nn_graph_clear();
    free(labels);
    return s;
}

typedef struct history {
    float acc[MAX_EPOCHS + 1], neg[MAX_EPOCHS + 1];   /* test accuracy after each epoch */
    double ms_per_step;
    float start_loss;
} history;

static void train(which w, nn_model *m, const char *name, const encoded *enc, const phrase *ph,
                  const int *train_idx, int n_train, const int *test_idx, int n_test, int epochs,
                  float lr, uint64_t seed, history *hist) {
    nn_optim *adam = nn_adam_new(m, lr, 0.0f);
    nn_rng rng;
    nn_rng_seed(&rng, seed + 99);   /* the same batches for both models */
    int *order = malloc((size_t)n_train * sizeof *order), labels[BATCH];
    memcpy(order, train_idx, (size_t)n_train * sizeof *order);
    evaluate(w, enc, ph, train_idx, n_train, &hist->start_loss, NULL);
    score s0 = evaluate(w, enc, ph, test_idx, n_test, NULL, NULL);
    hist->acc[0] = s0.all;
    hist->neg[0] = s0.neg;
    int steps_per_epoch = (n_train + BATCH - 1) / BATCH, steps = 0;
    double seconds = 0.0;
    nn_progress bar;
    nn_progress_start(&bar, name, (long)epochs * steps_per_epoch);
    for (int epoch = 1; epoch <= epochs; epoch++) {
        nn_rng_shuffle(&rng, order, n_train);
        float sum = 0.0f;
        for (int start = 0; start < n_train; start += BATCH) {
            int B = n_train - start < BATCH ? n_train - start : BATCH;
            for (int b = 0; b < B; b++) labels[b] = ph[order[start + b]].label;
            double t0 = nn_seconds();
            nn_tensor *loss = nn_cross_entropy_loss(
                forward(w, enc, order + start, B, w.rnn && steps == 0), labels);
            sum += nn_item(loss);
            nn_model_zero_grad(m);
            nn_backward(loss);
            nn_clip_grad_norm(m, CLIP);
            nn_optim_step(adam);
            nn_graph_clear();
            seconds += nn_seconds() - t0;
            steps++;
            nn_progress_update(&bar, steps, "epoch %d loss %.3f", epoch, sum * BATCH / (start + B));
        }
        score s = evaluate(w, enc, ph, test_idx, n_test, NULL, NULL);
        hist->acc[epoch] = s.all;
        hist->neg[epoch] = s.neg;
    }
    nn_progress_finish(&bar);
    hist->ms_per_step = 1000.0 * seconds / steps;
    free(order);
    nn_optim_free(adam);
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    uint64_t seed = 3;
    int epochs = 15, hidden = 48, train_negs = 1;
    float lr = 0.01f;
    const char *out_dir = "out", *cell_name = "gru";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests: 3 epochs, H = 16"),
        NN_OPT_FLAG("--full", &full, "40 epochs"),
        NN_OPT_INT("--epochs", &epochs, 1, MAX_EPOCHS, "passes over the training phrases "
                   "(3 with --quick, 40 with --full)"),
        NN_OPT_INT("--train-negations", &train_negs, 0, 4, "negated forms of each training "
                   "combination to train on (4: all, as many as the plain ones)"),
        NN_OPT_CHOICE("--cell", &cell_name, "gru|lstm|rnn", "the recurrent cell"),
        NN_OPT_INT("--hidden", &hidden, 1, 1024, "hidden size H (16 with --quick)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's learning rate (both models)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the SVG picture (made if missing)"),
    };
    int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Sentiment (褒贬) of short Chinese and English phrases made from templates,\n"
                     "with negations that flip the label: a character-level GRU against a bag of\n"
                     "characters, on held-out combinations; accuracy overall and on negations.",
                     opts, nopts);
    if (quick) full = false; /* --quick wins */
    if (!nn_option_given(opts, nopts, "--epochs")) epochs = quick ? 3 : full ? 40 : epochs;
    if (quick && !nn_option_given(opts, nopts, "--hidden")) hidden = 16;
    nn_cell_kind kind = !strcmp(cell_name, "lstm") ? NN_CELL_LSTM
                      : !strcmp(cell_name, "rnn")  ? NN_CELL_RNN
                                                   : NN_CELL_GRU;

    printf("chapter 4: sentiment (褒贬) of phrases, %s vs bag of characters\n", cell_name);
    printf("seed %llu; %s run; %d epochs of Adam (lr %g, batch %d, gradient norm clipped at %g)\n",
           (unsigned long long)seed, quick ? "--quick" : full ? "--full" : "default (--full: 40 epochs)",
           epochs, lr, BATCH, CLIP);

    /* ---- the phrases, the split, the vocabulary ------------------------------------------ */
    static phrase ph[MAX_PHRASES];
    int held_pairs;
    int n = make_phrases(ph, seed, &held_pairs);
    size_t total = 0;
    for (int i = 0; i < n; i++) total += strlen(ph[i].text) + 1;
    char *all = malloc(total + 1), *p = all;   /* + 1: sprintf's final NUL */
    for (int i = 0; i < n; i++) p += sprintf(p, "%s\n", ph[i].text);
    nn_vocab *vocab = nn_vocab_build(all, total - 1, 0);
    free(all);
    if (!vocab) {
        fprintf(stderr, "sentiment: %s\n", nn_last_error());
        return 1;
    }
    encoded enc[MAX_PHRASES];
    int train_idx[MAX_PHRASES], test_idx[MAX_PHRASES], n_train = 0, n_test = 0, max_len = 0;
    int neg_train = 0, neg_test = 0, pos_count = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(ph[i].text);
        enc[i].len = nn_vocab_encode(vocab, ph[i].text, len, NULL, 0);
        enc[i].ids = malloc((size_t)enc[i].len * sizeof(int));
        nn_vocab_encode(vocab, ph[i].text, len, enc[i].ids, (size_t)enc[i].len);
        if (enc[i].len > max_len) max_len = enc[i].len;
        if (ph[i].test) {
            test_idx[n_test++] = i;
            neg_test += ph[i].negated;
        } else if (ph[i].neg_rank < train_negs) {
            train_idx[n_train++] = i;
            neg_train += ph[i].negated;
        }
        pos_count += ph[i].label;
    }
    printf("data: %d phrases from %d template families (%d positive), up to %d characters;\n"
           "      %d (holder, word) combinations held out: %d test phrases, all their forms "
           "(%d with a negation);\n"
           "      the other combinations: %d training phrases, every plain form and %d negated "
           "one%s (%d)\n", n, N_FAMILIES, pos_count, max_len, held_pairs, n_test, neg_test,
           n_train, train_negs, train_negs == 1 ? "" : "s", neg_train);
    printf("      e.g. train: %s (%+d)  %s (%+d)  %s (%+d)\n", ph[train_idx[1]].text,
           ph[train_idx[1]].label ? 1 : -1, ph[train_idx[5]].text, ph[train_idx[5]].label ? 1 : -1,
           ph[train_idx[n_train - 3]].text, ph[train_idx[n_train - 3]].label ? 1 : -1);
    printf("vocabulary: %d ids (<unk> + every character of the phrases), + 1 pad id for the "
           "%s\n", vocab->size, cell_name);

    /* ---- the models ------------------------------------------------------------------------- */
    nn_seed(seed + 1);
    rnn_model rnn = {nn_model_new(), NULL, NULL, NULL, vocab->size};
    rnn.embed = nn_embedding_layer_new(rnn.m, "embed", vocab->size + 1, EMBED, 1.0f);
    rnn.cell = nn_rnn_layer_new(rnn.m, cell_name, kind, EMBED, hidden);
    rnn.head = nn_linear_layer_new(rnn.m, "head", hidden, 2, NN_INIT_XAVIER);
    bag_model bag = {nn_model_new(), NULL, vocab->size};
    bag.head = nn_linear_layer_new(bag.m, "bag", vocab->size, 2, NN_INIT_XAVIER);
    printf("%s:  ids (B, T) -> embedding %d x %d -> %s H = %d -> h[len-1] -> linear %d -> 2: "
           "%zu parameters\n", cell_name, vocab->size + 1, EMBED, cell_name, hidden, hidden,
           rnn.m->count);
    printf("bag:  counts (B, %d) -> linear %d -> 2: %zu parameters\n", vocab->size, vocab->size,
           bag.m->count);
    printf("loss: cross-entropy, expected ln 2 = %.3f at the start\n\n", log(2.0));

    history hr, hb;
    train((which){&rnn, NULL}, rnn.m, cell_name, enc, ph, train_idx, n_train, test_idx, n_test,
          epochs, lr, seed, &hr);
    train((which){NULL, &bag}, bag.m, "bag", enc, ph, train_idx, n_train, test_idx, n_test,
          epochs, lr, seed, &hb);

    /* ---- results ---------------------------------------------------------------------------- */
    float rloss, bloss;
    float *rp = malloc((size_t)n_test * sizeof *rp), *bp = malloc((size_t)n_test * sizeof *bp);
    score rtr = evaluate((which){&rnn, NULL}, enc, ph, train_idx, n_train, NULL, NULL);
    score btr = evaluate((which){NULL, &bag}, enc, ph, train_idx, n_train, NULL, NULL);
    score rs = evaluate((which){&rnn, NULL}, enc, ph, test_idx, n_test, &rloss, rp);
    score bs = evaluate((which){NULL, &bag}, enc, ph, test_idx, n_test, &bloss, bp);
    printf("\nstart loss: %s %.3f, bag %.3f (expected ~0.693)\n", cell_name, hr.start_loss,
           hb.start_loss);
    printf("accuracy        %8s %8s %8s %8s %9s\n", "train", "test", "negated", "plain", "test loss");
    printf("  %-13s %8.3f %8.3f %8.3f %8.3f %9.3f\n", cell_name, rtr.all, rs.all, rs.neg,
           rs.plain, rloss);
    printf("  %-13s %8.3f %8.3f %8.3f %8.3f %9.3f\n", "bag", btr.all, bs.all, bs.neg, bs.plain,
           bloss);
    printf("  (test: %d phrases, %d negated; an even guess scores 0.5)\n", n_test, neg_test);
    printf("time per training step: %s %.2f ms, bag %.3f ms (batch %d)\n\n", cell_name,
           hr.ms_per_step, hb.ms_per_step, BATCH);

    printf("some test phrases (p = probability of positive):\n");
    printf("  %-34s %5s %-7s %-7s\n", "phrase", "label", cell_name, "bag");
    for (int k = 0, shown = 0; k < n_test && shown < 12; k += n_test / 12 > 0 ? n_test / 12 : 1, shown++) {
        const phrase *q = &ph[test_idx[k]];
        int width = 34 + (int)(strlen(q->text) - (size_t)enc[test_idx[k]].len) / 2; /* CJK: 2 columns */
        printf("  %-*s %5s %5.2f%-2s %5.2f%s\n", width, q->text, q->label ? "+" : "-", rp[k],
               (rp[k] > 0.5f) == (q->label == 1) ? "" : " x", bp[k],
               (bp[k] > 0.5f) == (q->label == 1) ? "" : " x");
    }
    printf("  (x: wrong)\n\n");

    float ep[MAX_EPOCHS + 1];
    for (int e = 0; e <= epochs; e++) ep[e] = (float)e;
    char l1[32], l2[32];
    snprintf(l1, sizeof l1, "%s, all", cell_name);
    snprintf(l2, sizeof l2, "%s, negated", cell_name);
    nn_series curves[] = {
        {l1, ep, hr.acc, epochs + 1, NN_PLOT_LINE},
        {l2, ep, hr.neg, epochs + 1, NN_PLOT_LINE},
        {"bag, all", ep, hb.acc, epochs + 1, NN_PLOT_LINE},
        {"bag, negated", ep, hb.neg, epochs + 1, NN_PLOT_LINE},
    };
    int failed = nn_plot_svg_in(out_dir, "ch04_sentiment_accuracy.svg",
                                "Sentiment of held-out phrases: test accuracy per epoch", "epoch",
                                "test accuracy", curves, NN_COUNTOF(curves)) != 0;

    printf("result: seed=%llu epochs=%d cell=%s hidden=%d params=%zu bag_params=%zu "
           "test=%d test_negated=%d acc=%.3f neg_acc=%.3f plain_acc=%.3f bag_acc=%.3f "
           "bag_neg_acc=%.3f bag_plain_acc=%.3f ms_per_step=%.2f\n", (unsigned long long)seed,
           epochs, cell_name, hidden, rnn.m->count, bag.m->count, n_test, neg_test, rs.all,
           rs.neg, rs.plain, bs.all, bs.neg, bs.plain, hr.ms_per_step);

    free(rp);
    free(bp);
    for (int i = 0; i < n; i++) free(enc[i].ids);
    nn_vocab_free(vocab);
    nn_model_free(rnn.m);
    nn_model_free(bag.m);
    nn_graph_release();
    return failed ? 1 : 0;
}
