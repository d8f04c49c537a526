/* examples/ch06_hallucination/hallucination.c — hallucination (幻觉), measured: a language
 * model answers a question it cannot know the answer to, and sounds sure anyway.
 *
 * The tutorial (常见的大模型词, 21): 这种在语言上说得通,但是在事实上狗屁不通,甚至虚假信息的现象
 * 叫做大模型的幻觉 — text that reads well but is false is the model's hallucination. A
 * language model is trained to continue text plausibly, not to say "I don't know": asked
 * for a fact it never saw, it still writes the most probable continuation, in the same form
 * and often with much the same confidence as a fact it knows.
 *
 * The facts: 唐诗三百首 (tang300) gives every poem a title and an author. Lines
 *   《静夜思》作者：李白
 * are the training text for 80% of the titles (the seen ones; 3 copies each, shuffled); the
 * other 20% are held out (unseen; a title several poems share, 《送别》, is one question, in
 * one part). A tiny GPT (chapter 5, trained by examples/common/gpt_train.h; the table, the
 * split and the asking are examples/common/ch06_authors.h, shared with ch06_rag) learns them.
 * Then it is asked "《title》作者：" for every seen and every unseen title, and its greedy
 * continuation up to the line end is its answer a_1 .. a_n, each character the most probable
 * next one, with probability p_i = softmax(logits)[a_i]; with the line end a_n+1,
 *   confidence = p_1 p_2 ... p_n+1      the probability the model gives its whole answer
 * It prints a few answers of each kind and answers for titles that exist nowhere; the
 * accuracy and mean confidence on the seen and on the unseen titles (also of the right and
 * of the wrong answers alone, and how many wrong answers came with a confidence above 0.5);
 * and, as a yardstick, the answer that knows nothing: always the most frequent poet.
 * When fortunes-zh is missing, a small synthetic table (60 made-up titles, 8 invented poets
 * drawn at random) stands in, and says so; then nothing but memory can answer at all.
 *
 *   hallucination [--quick | --full] [--steps N] [--dim C] [--layers N] [--context T]
 *                 [--batch B] [--lr X] [--copies N] [--reading N] [--show N] [--seed N]
 *                 [--out DIR]
 *   --quick  C 32, 1 block, T 24, batch 8, 60 steps (the smoke tests; about a second)
 *   default  C 64, 1 block, T 24, batch 16, AdamW lr 5e-3, 600 steps (about 20 s)
 *   --full   C 96, 2 blocks, T 32, batch 16, lr 3e-3, 1200 steps
 *   --reading N adds N of ch06_rag's reading cards to the training text (default 0).
 *
 * What it measured (tang300, seed 42; 238 seen titles, 60 unseen). Default (12-20 s): seen
 * 92.4% right with mean confidence 0.75; unseen 11.7% right (always naming 杜甫 would give
 * 13.3%) with mean confidence 0.51, and 24 of the 60 unseen answers wrong with a confidence
 * above 0.5; 93% of the unseen answers are names of real poets of the table. --full (75 s):
 * seen 95.8% (0.83), unseen 6.7% (0.46), 19 of 60 confidently wrong.
 * Writes DIR/ch06_hallucination.csv: every question, the true author, the answer, its
 * confidence, right or not, seen or not. DIR: out by default.
 */
#include "../common/ch06_authors.h"

/* Titles that are in no book (checked against the table before asking). */
static const char *const invented[] = {"《春夜忆江南》", "《秋山送远人》", "《明月照孤城》"};

static void print_score(const char *name, const authors_score *s) {
    printf("  %-8s %6d %8.1f%% %10.3f %10.3f %10.3f %9.1f%%\n", name, s->asked,
           100 * authors_accuracy(s), s->conf, s->conf_right, s->conf_wrong,
           s->asked ? 100.0 * s->poets / s->asked : 0.0);
}

int main(int argc, char **argv) {
    authors_cli cli = AUTHORS_CLI_FACTS;
    const char *out_dir = "out";
    int show = 8;
    uint64_t seed = 42;
    nn_option opts[] = {
        AUTHORS_OPTIONS(cli),
        NN_OPT_INT("--show", &show, 0, 1000, "answers to print of each kind"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the table of answers"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Hallucination (幻觉), measured: a tiny GPT learns who wrote 80% of the Tang\n"
                     "poems, then names authors for the other 20% just as confidently.",
                     opts, nopt);
    printf("chapter 6: hallucination (幻觉) — confident answers to unknowable questions\n");
    printf("seed %llu\n", (unsigned long long)seed);
    authors_settings as = authors_settings_from(&cli, opts, nopt, AUTHORS_FACTS);

    authors_kb kb;
    if (authors_open(&kb, 60, seed) != 0) return 1;
    int n_seen_cards = 0;
    for (int i = 0; i < kb.n; i++) n_seen_cards += kb.cards[i].seen;
    const char *majority = authors_majority(&kb);
    printf("table: %s, %d poems, %d distinct titles, %d poets (most poems: %s, %s, %s)\n",
           kb.tang ? TANG300 " (titles kept)" : "a SYNTHETIC table", kb.n,
           kb.titles_seen + kb.titles_unseen, kb.n_names, kb.names[0],
           kb.n_names > 1 ? kb.names[1] : "-", kb.n_names > 2 ? kb.names[2] : "-");
    printf("split: %d titles seen in training (%d poems), %d held out (unseen)\n", kb.titles_seen,
           n_seen_cards, kb.titles_unseen);

    /* ---- train ----------------------------------------------------------------------------- */
    const nn_gpt_config *cf = &as.gpt.cfg;
    printf("\ntraining text: %d copies of each seen fact line, e.g. ", as.copies);
    for (int i = 0, k = 0; i < kb.n && k < 2; i++)
        if (kb.cards[i].seen) printf("%s%s作者：%s", k++ ? ", " : "", kb.cards[i].title, kb.cards[i].author);
    printf("\n");
    if (as.reading > 0)
        printf("  and %d reading cards (【资料】《made-up title》作者：random poet, then the question "
               "answered from it)\n", as.reading);
    printf("model: C %d, %d heads, %d block%s, T %d; batch %d, AdamW lr %g, %d steps\n", cf->dim,
           cf->heads, cf->layers, cf->layers > 1 ? "s" : "", cf->context, as.gpt.B, as.gpt.lr,
           as.gpt.steps);
    static authors_model m;
    if (authors_train(&m, &kb, &as, seed) != 0) {
        fprintf(stderr, "hallucination: %s\n", nn_last_error());
        authors_model_free(&m), authors_close(&kb);
        return 1;
    }
    nn_gpt *g = m.run.gpt;
    printf("  %d training characters, V = %d, %zu parameters; loss %.3f at the start (ln V = "
           "%.3f),\n  %.3f at the end (training text), %.3f on the check text (seen facts%s); best "
           "at step %d of %d\n",
           m.train_chars, m.vocab->size, g->model->count, m.run.start_loss,
           log((double)m.vocab->size), m.run.train, m.run.val,
           as.reading > 0 ? " and fresh reading cards" : "", m.run.best_step, m.run.steps);

    /* ---- ask ------------------------------------------------------------------------------- */
    printf("\nasked \"《title》作者：\", the greedy answer up to the line end, p = its probability:\n");
    printf("  seen titles (the answer was in the training text):\n");
    authors_score seen = authors_eval(g, m.vocab, &kb, true, show);
    printf("  unseen titles (never in the training text: nothing to know the answer from):\n");
    authors_score unseen = authors_eval(g, m.vocab, &kb, false, show);
    int base_right = 0;
    for (int i = 0; i < kb.n; i++)
        if (!kb.cards[i].seen && !kb.cards[i].repeat)
            base_right += authors_correct(&kb, kb.cards[i].title, majority);
    double base_acc = unseen.asked ? (double)base_right / unseen.asked : 0.0;

    printf("  titles that exist nowhere:\n");
    double conf_invented = 0.0;
    int n_invented = 0;
    for (int k = 0; k < NN_COUNTOF(invented); k++) {
        bool exists = false;
        for (int i = 0; i < kb.n; i++) exists |= strcmp(kb.cards[i].title, invented[k]) == 0;
        char q[128];
        snprintf(q, sizeof q, "%s作者：", invented[k]);
        author_answer a;
        if (exists || authors_ask(g, m.vocab, q, &a) != 0) continue;
        printf("    %s", q);
        authors_print_padded(a.text, 10);
        printf("p = %.3f   (%s)\n", a.prob,
               authors_is_poet(&kb, a.text) ? "a real poet, for a poem that does not exist"
                                            : "not even a poet of the table");
        conf_invented += a.prob, n_invented++;
    }
    conf_invented = n_invented ? conf_invented / n_invented : NAN;

    printf("\n  %-8s %6s %9s %10s %10s %10s %10s\n", "titles", "asked", "accuracy", "confidence",
           "if right", "if wrong", "a poet");
    print_score("seen", &seen);
    print_score("unseen", &unseen);
    printf("  (confidence: the mean probability of the answer given; \"a poet\": the answer is the "
           "name of some poet of the table)\n");
    printf("  answers given with confidence above 0.5: %d of the %d seen (%d wrong), %d of the %d "
           "unseen (%d wrong)\n", seen.sure, seen.asked, seen.sure_wrong, unseen.sure, unseen.asked,
           unseen.sure_wrong);
    printf("  knowing nothing, always answering %s (the most frequent poet of the seen titles): "
           "%.1f%% of the unseen titles\n", majority, 100 * base_acc);
    printf("the model is %.2f as confident on the unseen titles as on the seen ones (%.3f vs "
           "%.3f), and right on %.0f%% of them instead of %.0f%%:\nit states a plausible name "
           "either way. That is hallucination: the form of an answer without the knowledge.\n",
           seen.conf > 0 ? unseen.conf / seen.conf : NAN, unseen.conf, seen.conf,
           100 * authors_accuracy(&unseen), 100 * authors_accuracy(&seen));

    /* ---- every answer, as a table ---------------------------------------------------------- */
    char path[4096];
    int failed = 0;
    FILE *f = nn_out_path(path, sizeof path, out_dir, "ch06_hallucination.csv") ? fopen(path, "w") : NULL;
    if (!f) {
        fprintf(stderr, "cannot write the table of answers into %s: %s\n", out_dir, nn_last_error());
        failed = 1;
    } else {
        fprintf(f, "title,author,answer,confidence,right,seen\n");
        for (int i = 0; i < kb.n; i++) {
            const author_card *c = &kb.cards[i];
            if (c->repeat) continue;
            char q[512];
            snprintf(q, sizeof q, "%s作者：", c->title);
            author_answer a;
            if (authors_ask(g, m.vocab, q, &a) != 0) continue;
            fprintf(f, "%s,%s,%s,%.4f,%d,%d\n", c->title, c->author, a.text, a.prob,
                    authors_correct(&kb, c->title, a.text), c->seen);
        }
        failed = fclose(f) != 0;
        if (failed) fprintf(stderr, "cannot write %s\n", path);
        else printf("wrote %s\n", path);
    }

    printf("result: table=%s titles_seen=%d titles_unseen=%d params=%zu steps=%d "
           "seen_acc=%.3f seen_conf=%.3f unseen_acc=%.3f unseen_conf=%.3f unseen_conf_wrong=%.3f "
           "unseen_poet_share=%.3f unseen_sure_wrong=%.3f majority_acc=%.3f invented_conf=%.3f\n",
           kb.tang ? "tang300" : "synthetic", kb.titles_seen, kb.titles_unseen, g->model->count,
           m.run.steps, authors_accuracy(&seen), seen.conf, authors_accuracy(&unseen), unseen.conf,
           unseen.conf_wrong, unseen.asked ? (double)unseen.poets / unseen.asked : 0.0,
           unseen.asked ? (double)unseen.sure_wrong / unseen.asked : 0.0, base_acc,
           conf_invented);
    authors_model_free(&m);
    authors_close(&kb);
    nn_graph_release();
    return failed;
}
