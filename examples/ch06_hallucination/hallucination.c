/* examples/ch06_hallucination/hallucination.c — hallucination (幻觉), measured: a language
 * model answers a question it cannot know the answer to, and sounds just as sure.
 *
 * The tutorial (常见的大模型词, 21): 这种在语言上说得通,但是在事实上狗屁不通,甚至虚假信息的现象
 * 叫做大模型的幻觉 — text that reads well but is false is the model's hallucination. A
 * language model is trained to continue text plausibly, not to say "I don't know": asked
 * for a fact it never saw, it still writes the most probable continuation, in the same form
 * and often with the same confidence as a fact it knows.
 *
 * The facts: 唐诗三百首 (tang300) gives every poem a title and an author. Lines
 *   《静夜思》作者：李白
 * are the training text for 80% of the titles (the seen ones); the other 20% are held out
 * (unseen; a title several poems share, 《送别》, is one question, in one part). A tiny GPT
 * (chapter 5, examples/common/gpt_train.h) learns them, together with reading cards that
 * teach it to use a document placed before a question (examples/common/ch06_authors.h; the
 * RAG demo, ch06_rag, needs that skill; here the prompt never holds a document). Then it is
 * asked "《title》作者：" and its greedy continuation up to the line end is its answer, for every
 * seen and every unseen title. For each answer a_1 .. a_n (and the line end a_n+1), each the
 * most probable next character with probability p_i = softmax(logits)[a_i],
 *   confidence = p_1 p_2 ... p_n+1      the probability of the whole answer
 * It prints the accuracy and the mean confidence on the seen and on the unseen titles (and
 * on the wrong answers alone), the answer that knows nothing (always the most frequent poet)
 * as a yardstick, a few answers of each kind, and answers to titles that exist nowhere.
 * When fortunes-zh is missing, a small synthetic table of made-up titles and poets stands in
 * (it says so); its authors are random, so nothing but memory can answer.
 *
 *   hallucination [--quick | --full] [--steps N] [--dim C] [--layers N] [--context T]
 *                 [--batch B] [--copies N] [--show N] [--seed N] [--out DIR]
 *   --quick  C 32, 1 block, T 32, 60 steps (the smoke tests; a few seconds; learns little)
 *   default  C 64, 2 blocks, T 48, batch 16, 300 steps
 *   --full   C 128, 4 blocks, T 64, batch 32, 1500 steps
 * Writes DIR/ch06_hallucination.csv: every question, the true author, the answer, its
 * confidence, seen or not. DIR: out by default.
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
    bool quick = false, full = false;
    const char *out_dir = "out";
    int steps = 300, C = 64, L = 2, T = 48, B = 16, copies = 3, show = 8, reading = -1;
    float lr = 2e-3f;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny model and a few dozen steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "C 128, 4 blocks, T 64, batch 32, 1500 steps (minutes)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps (--quick 60, --full 1500)"),
        NN_OPT_INT("--dim", &C, 4, 2048, "C: the width of every token vector (--full 128)"),
        NN_OPT_INT("--layers", &L, 1, 64, "Transformer blocks (--quick 1, --full 4)"),
        NN_OPT_INT("--context", &T, 16, 1024, "T: characters per window (--full 64)"),
        NN_OPT_INT("--batch", &B, 1, 1024, "B: windows per step (--full 32)"),
        NN_OPT_INT("--copies", &copies, 1, 100, "copies of each seen fact in the training text"),
        NN_OPT_INT("--reading", &reading, 0, 1000000, "reading cards (default: half the fact lines)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "AdamW's learning rate"),
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

    authors_settings as = {.gpt = {.cfg = {.dim = C, .heads = 4, .layers = L, .context = T},
                                   .B = B, .steps = steps, .eval_every = 50, .patience = 1000,
                                   .lr = lr, .label = "authors"},
                           .copies = copies, .reading = 0, .val_reading = 60};
#define DEFAULT(flag, field, value) \
    if (!nn_option_given(opts, nopt, flag)) field = value
    if (full && !quick) {
        DEFAULT("--dim", as.gpt.cfg.dim, 128);
        DEFAULT("--layers", as.gpt.cfg.layers, 4);
        DEFAULT("--context", as.gpt.cfg.context, 64);
        DEFAULT("--batch", as.gpt.B, 32);
        DEFAULT("--steps", as.gpt.steps, 1500);
    }
    if (quick) {
        DEFAULT("--dim", as.gpt.cfg.dim, 32);
        DEFAULT("--layers", as.gpt.cfg.layers, 1);
        DEFAULT("--context", as.gpt.cfg.context, 32);
        DEFAULT("--batch", as.gpt.B, 8);
        DEFAULT("--steps", as.gpt.steps, 60);
        as.gpt.eval_every = 20;
        as.val_reading = 20;
    }
#undef DEFAULT
    as.gpt.cfg.heads = as.gpt.cfg.dim % 4 == 0 ? 4 : as.gpt.cfg.dim % 2 == 0 ? 2 : 1;

    authors_kb kb;
    if (authors_open(&kb, 60, seed) != 0) return 1;
    int n_seen_cards = 0;
    for (int i = 0; i < kb.n; i++) n_seen_cards += kb.cards[i].seen;
    as.reading = reading >= 0 ? reading : n_seen_cards * as.copies / 2;
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
    printf(",\n  and %d reading cards (资料：《made-up title》作者：random poet, then the question "
           "answered from it)\nmodel: C %d, %d heads, %d block%s, T %d; batch %d, AdamW lr %g, %d "
           "steps\n", as.reading, cf->dim, cf->heads, cf->layers, cf->layers > 1 ? "s" : "",
           cf->context, as.gpt.B, as.gpt.lr, as.gpt.steps);
    static authors_model m;
    if (authors_train(&m, &kb, &as, seed) != 0) {
        fprintf(stderr, "hallucination: %s\n", nn_last_error());
        authors_model_free(&m), authors_close(&kb);
        return 1;
    }
    nn_gpt *g = m.run.gpt;
    printf("  %d training characters, V = %d, %zu parameters; loss %.3f at the start (ln V = "
           "%.3f), %.3f at the end (training text); reading cards held out: %.3f\n",
           m.train_chars, m.vocab->size, g->model->count, m.run.start_loss,
           log((double)m.vocab->size), m.run.train, m.run.val);

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
           "unseen_poet_share=%.3f majority_acc=%.3f invented_conf=%.3f\n",
           kb.tang ? "tang300" : "synthetic", kb.titles_seen, kb.titles_unseen, g->model->count,
           m.run.steps, authors_accuracy(&seen), seen.conf, authors_accuracy(&unseen), unseen.conf,
           unseen.conf_wrong, unseen.asked ? (double)unseen.poets / unseen.asked : 0.0, base_acc,
           conf_invented);
    authors_model_free(&m);
    authors_close(&kb);
    nn_graph_release();
    return failed;
}
