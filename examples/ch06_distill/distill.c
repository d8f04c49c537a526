/* examples/ch06_distill/distill.c — 蒸馏 (knowledge distillation): a small network learns from a
 * big one's soft answers.
 *
 * The tutorial: 蒸馏就是用大模型(老师)的输出来训练小模型(学生) — distillation trains a small
 * model (the student) on the outputs of a big one (the teacher), so the small one gets close to
 * the big one's quality at a fraction of its size. The teacher's softmax says more than the
 * label: "mostly shirt, a bit T-shirt, never a boot" tells the student which classes look
 * alike. With a temperature T that softens both distributions (Hinton et al. 2015):
 *   p = softmax(teacher / T),  q = softmax(student / T)
 *   L = alpha * T^2 * KL(p || q) + (1 - alpha) * cross-entropy(softmax(student), label)
 * (nn_distill_loss, nn/net/distill.h; the teacher gets no gradient).
 *
 * Teacher: chapter 3's CNN (examples/common/fashion_nets.h; 206,922 parameters), trained on
 * every training picture with its label (or loaded with --teacher FILE: each run saves its
 * teacher as DIR/ch06_distill_teacher.nnck, and chapter 3's out/cnn.nnck fits too). Student:
 * an MLP with ONE hidden layer of 32 (784 -> 32 -> 10, 25,450 parameters, 8x smaller). Every
 * student starts from the same weights (and batch order), and is tested on held-out pictures.
 *
 * Soft targets pay where the student has FEW labels (Hinton et al.: a speech model trained on
 * 3% of the data reached 44.5% accuracy with hard targets, 57.0% with soft ones, 58.9% with
 * all the data). So the students come in two blocks:
 *   few labels (--labels N, 1,000): students that see only the first N pictures
 *     alone       cross-entropy on the N labels (100 epochs: a small set overfits anyway)
 *     distilled   nn_distill_loss on the same N pictures, at T = 1, 2, 4, 8, alpha 0.9
 *     + transfer  distilled on a transfer set: ALL the training pictures with the teacher's
 *                 soft targets, but the labels of the N only (the soft term on every picture,
 *                 the hard term on the labelled ones; --transfer-epochs 0: none)
 *   all labels: alone and distilled on every picture (where the student gains nothing here)
 * The teacher's logits on the training pictures are computed once, with dropout off.
 *
 *   distill [--quick | --full] [--labels N] [--teacher FILE] [--hidden H] [--T X]
 *           [--alpha X] [--seed N] [--data DIR] [--out DIR] [--train N] [--teacher-epochs N]
 *           [--epochs N] [--few-epochs N] [--transfer-epochs N] [--lr X]
 *   default  10,000 training pictures, teacher 4 epochs, 1,000 labels; 5,000 test pictures
 *            (about 40 s of one core): test errors teacher 644; 1,000 labels alone 1,012,
 *            distilled 896 (T 1), + transfer set 745 (T 1); 10,000 labels alone 776,
 *            distilled 775 (T 1)
 *   --full   55,000 training pictures, teacher 10 epochs, students on all labels 20 epochs
 *            at lr 0.001, transfer 10 epochs; the 10,000 test pictures (about 6 minutes of
 *            one core, 5 of them the teacher): test errors teacher 840; 1,000 labels alone
 *            1,952, distilled 1,841 (T 1), + transfer set 1,293 (T 2); 55,000 labels alone
 *            1,298, distilled 1,293 (T 1)
 *   --quick  1,000 pictures, 200 labels, teacher 2 epochs, few students 20 epochs, T = 4 only
 *            (the smoke tests)
 * --T X trains the distilled students at that temperature only, instead of the sweep.
 * The yardstick: Hinton et al. 2015, MNIST: a big net made 67 test errors, a small one trained
 * alone 146, distilled 74. Here, with all the labels the 32-unit student gains nothing (the
 * teacher knows little it can take in), and higher T hurts (a student far too small does best
 * at low T, as they say too); with 1,000 labels and the soft targets on all the pictures it
 * does as well as with all 55,000 labels.
 * Without Debian's dataset-fashion-mnist it runs on a synthetic stand-in (and says so).
 * Writes DIR/ch06_distill.svg (test accuracy against T, the teacher and the students alone as
 * lines) and DIR/ch06_distill_teacher.nnck (unless the teacher was loaded).
 */
#include "../common/fashion_nets.h"

enum { MAX_T = 4, MAX_RUNS = 2, BATCH = 64 /* fashion_train_with's batch size */ };

/* What the distillation loss needs per batch: the teacher's logits of every training picture
 * (row i = picture i of the student's data set), the temperature, the weight, and how many
 * pictures have labels (pictures 0 .. labelled-1; on a transfer set the others have none). */
typedef struct soft_targets {
    const float *teacher;   /* (n, 10) */
    float T, alpha;
    int labelled;
} soft_targets;

/* The teacher's rows of this batch's pictures, (B, 10). */
static nn_tensor *teacher_rows(const soft_targets *st, const int *samples, int B) {
    nn_tensor *t = nn_graph_tensor(2, (int[]){B, FASHION_CLASSES}, false);
    for (int i = 0; i < B; i++)
        memcpy(t->data + (size_t)i * FASHION_CLASSES,
               st->teacher + (size_t)samples[i] * FASHION_CLASSES, FASHION_CLASSES * sizeof(float));
    return t;
}

/* fashion_train_with's batch loss when every picture has its label: nn_distill_loss. */
static nn_tensor *distill_batch_loss(nn_tensor *logits, const int *labels, const int *samples,
                                     int B, void *ctx) {
    const soft_targets *st = ctx;
    return nn_distill_loss(logits, teacher_rows(st, samples, B), labels, st->T, st->alpha);
}

/* The same on a transfer set where only pictures 0 .. labelled-1 have labels: the soft term
 * on every picture of the batch (labels NULL, alpha 1), the hard term on the labelled rows
 * alone (nn_take_rows picks them out; most batches have none):
 *   L = alpha * T^2 * KL(p || q)  +  (1 - alpha) * CE(the labelled rows) */
static nn_tensor *transfer_batch_loss(nn_tensor *logits, const int *labels, const int *samples,
                                      int B, void *ctx) {
    const soft_targets *st = ctx;
    nn_tensor *loss = nn_mul_scalar(
        nn_distill_loss(logits, teacher_rows(st, samples, B), NULL, st->T, 1.0f), st->alpha);
    int rows[BATCH], y[BATCH], k = 0;
    for (int i = 0; i < B && i < BATCH; i++)
        if (samples[i] < st->labelled) rows[k] = i, y[k++] = labels[i];
    if (k > 0 && st->alpha < 1.0f)
        loss = nn_add(loss, nn_mul_scalar(nn_cross_entropy_loss(nn_take_rows(logits, rows, k), y),
                                          1.0f - st->alpha));
    return loss;
}

/* The teacher's logits of every picture of ds, row i for picture i; no tape, dropout off. */
static float *teacher_logits(const fashion_net *teacher, const nn_dataset *ds) {
    float *out = malloc((size_t)ds->n * FASHION_CLASSES * sizeof(float));
    bool was_grad = nn_set_grad_enabled(false), was_train = nn_set_training(false);
    for (int s = 0; s < ds->n; s += 500) {
        nn_tensor *x = nn_dataset_batch(ds, s, 500, NULL);
        nn_tensor *logits = fashion_forward(teacher, x, false, NULL);   /* (b, 10) */
        for (int i = 0; i < x->shape[0]; i++)
            memcpy(out + (size_t)ds->order[s + i] * FASHION_CLASSES,
                   logits->data + (size_t)i * FASHION_CLASSES, FASHION_CLASSES * sizeof(float));
        nn_graph_clear();
    }
    nn_set_grad_enabled(was_grad);
    nn_set_training(was_train);
    return out;
}

/* The teacher's accuracy on the n pictures of its logits (row i: picture i, labels[i]), and
 * how soft its targets are: the mean largest probability of softmax(logits / T). */
static float teacher_fit(const float *logits, const int *labels, int n, float T, float *top) {
    int right = 0;
    double sum_top = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * FASHION_CLASSES;
        int best = 0;
        for (int c = 1; c < FASHION_CLASSES; c++)
            if (z[c] > z[best]) best = c;
        double s = 0.0;   /* top probability = 1 / sum_c e^((z_c - z_best) / T) */
        for (int c = 0; c < FASHION_CLASSES; c++) s += exp(((double)z[c] - z[best]) / T);
        sum_top += 1.0 / s;
        right += best == labels[i];
    }
    *top = (float)(sum_top / n);
    return (float)right / (float)n;
}

/* How every student is trained. */
typedef struct student_setup {
    uint64_t init;           /* the seed of the starting weights and batch order, for all */
    int hidden;
    int epochs, few_epochs;  /* epochs on all the labels / on the few (a small set needs more) */
    float lr, few_lr;
    int transfer_epochs;     /* epochs over the transfer set (all pictures); 0: none */
    float alpha;
    const float *Ts;
    int nT;
} student_setup;

/* One student: on the labels alone when st is NULL, else distilled with the batch loss
 * `loss`. Returns its test accuracy. */
static float train_student(const char *what, const student_setup *su, nn_dataset *tr,
                           const nn_dataset *test, int epochs, float lr, soft_targets *st,
                           fashion_loss_fn loss, size_t *params) {
    nn_seed(su->init);
    fashion_net n = fashion_mlp_new("student", su->hidden, 0);
    *params = n.model->count;
    double t0 = nn_seconds();
    float train_loss = fashion_train_with(&n, tr, epochs, lr, st ? loss : NULL, st, NULL, NULL,
                                          true);
    float acc = fashion_evaluate(&n, test, NULL, NULL);
    printf("  %-38s train loss %.4f  test accuracy %.4f  %5d errors  %.1f s\n", what,
           train_loss, acc, (int)lroundf((1.0f - acc) * test->n), nn_seconds() - t0);
    nn_model_free(n.model);
    return acc;
}

/* One block of the table: students that see the labels of the first `labelled` pictures of
 * tr only (the same pictures for all): alone, distilled on those pictures at each T, and
 * (with a transfer set) distilled on every picture, the labels of the first `labelled`. */
typedef struct run {
    int labelled;
    bool transfer;
    float alone, dist[MAX_T], trans[MAX_T];
} run;

static void train_students(run *r, const student_setup *su, nn_dataset *tr,
                           const nn_dataset *test, const float *soft, size_t *params) {
    nn_dataset lab = {0}, rest = {0}, *on = tr;
    for (int i = 0; i < tr->n; i++) tr->order[i] = i;   /* "the first N": pictures 0 .. N-1 */
    if (r->labelled < tr->n) {
        nn_dataset_split(tr, tr->n - r->labelled, &lab, &rest);   /* lab: pictures 0 .. N-1 */
        nn_dataset_free(&rest);
        on = &lab;
    }
    bool few = on != tr;
    int epochs = few ? su->few_epochs : su->epochs;
    float lr = few ? su->few_lr : su->lr;
    r->transfer = few && su->transfer_epochs > 0;
    printf("\n== students on %d labelled pictures: 784 -> %d -> 10, %d epochs, lr %g", on->n,
           su->hidden, epochs, lr);
    if (r->transfer)
        printf("; with the transfer set: %d epochs over all %d pictures", su->transfer_epochs,
               tr->n);
    printf(" ==\n");
    char what[80];
    snprintf(what, sizeof what, "alone (%d labels, alpha 0)", on->n);
    r->alone = train_student(what, su, on, test, epochs, lr, NULL, NULL, params);
    for (int k = 0; k < su->nT; k++) {
        /* lab's picture j is tr's picture j, so the rows of soft fit both */
        soft_targets st = {soft, su->Ts[k], su->alpha, on->n};
        snprintf(what, sizeof what, "distilled, T %g, alpha %.2f", su->Ts[k], su->alpha);
        r->dist[k] = train_student(what, su, on, test, epochs, lr, &st, distill_batch_loss,
                                   params);
        if (!r->transfer) continue;
        snprintf(what, sizeof what, "  + transfer set, T %g", su->Ts[k]);
        r->trans[k] = train_student(what, su, tr, test, su->transfer_epochs, lr, &st,
                                    transfer_batch_loss, params);
    }
    nn_dataset_free(&lab);
}

/* One line of the table: test errors at each T, and the best against `alone`. */
static int print_errors(const char *what, const float *acc, int nT, int n_test, int alone_err,
                        const float *Ts) {
    int best = 0;
    printf("  %-34s", what);
    for (int k = 0; k < nT; k++) {
        printf(" %7d", (int)lroundf((1.0f - acc[k]) * n_test));
        if (acc[k] > acc[best]) best = k;
    }
    int best_err = (int)lroundf((1.0f - acc[best]) * n_test);
    printf("   best %d at T %g: %+d vs alone\n", best_err, Ts[best], best_err - alone_err);
    return best;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    uint64_t seed = 42;
    const char *data_dir = NULL, *out_dir = "out", *teacher_file = NULL;
    int n_train = 10000, n_labels = 1000, hidden = 32, teacher_epochs = 4, epochs = 10,
        few_epochs = 100, transfer_epochs = 20;
    float T_one = 0 /* not set: the sweep */, alpha = 0.9f, lr = 3e-3f;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests (a few seconds)"),
        NN_OPT_FLAG("--full", &full, "55,000 training pictures, more epochs (minutes)"),
        NN_OPT_INT("--labels", &n_labels, 10, 59000,
                   "the few labels: students that see only the first N pictures (200 with "
                   "--quick)"),
        NN_OPT_INT("--few-epochs", &few_epochs, 1, 1000,
                   "epochs of the students on the few labels (20 with --quick)"),
        NN_OPT_INT("--transfer-epochs", &transfer_epochs, 0, 200,
                   "epochs over the transfer set, all pictures with soft targets and no labels "
                   "(2 with --quick, 10 with --full; 0: none)"),
        NN_OPT_STR("--teacher", &teacher_file, "FILE",
                   "load the teacher instead of training it: out/ch06_distill_teacher.nnck "
                   "(saved by an earlier run), or chapter 3's out/cnn.nnck"),
        NN_OPT_INT("--hidden", &hidden, 4, 4096, "the student's hidden layer"),
        NN_OPT_FLOAT("--T", &T_one, 0.05, 100, "one temperature instead of the sweep 1, 2, 4, 8"),
        NN_OPT_FLOAT("--alpha", &alpha, 0, 1, "the weight of the teacher's soft targets"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--data", &data_dir, "DIR", "the folder with the four Fashion-MNIST files "
                                               "(none: $NN_FASHION_MNIST_DIR, else "
                                               NN_FASHION_MNIST_DIR ")"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the picture and the teacher"),
        NN_OPT_INT("--train", &n_train, 100, 59000,
                   "training pictures (1000 with --quick, 55000 with --full)"),
        NN_OPT_INT("--teacher-epochs", &teacher_epochs, 1, 100,
                   "the teacher's epochs (2 with --quick, 10 with --full)"),
        NN_OPT_INT("--epochs", &epochs, 1, 500,
                   "epochs of the students on all the labels (3 with --quick, 20 with --full)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1,
                     "Adam's starting learning rate (0.001 with --full, not for the few labels)"),
    };
    const int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Knowledge distillation (蒸馏) on Fashion-MNIST: chapter 3's CNN teaches a\n"
                     "one-hidden-layer MLP 8x smaller; the student trained on the labels alone\n"
                     "vs on the teacher's soft targets at temperature T, with few labels and\n"
                     "with all of them. Without the data set it runs on a synthetic stand-in.",
                     opts, nopts);
    if (quick) full = false;   /* --quick wins */
    if (!nn_option_given(opts, nopts, "--train")) n_train = quick ? 1000 : full ? 55000 : n_train;
    if (!nn_option_given(opts, nopts, "--teacher-epochs"))
        teacher_epochs = quick ? 2 : full ? 10 : teacher_epochs;
    if (!nn_option_given(opts, nopts, "--epochs")) epochs = quick ? 3 : full ? 20 : epochs;
    if (!nn_option_given(opts, nopts, "--labels")) n_labels = quick ? 200 : n_labels;
    if (!nn_option_given(opts, nopts, "--few-epochs")) few_epochs = quick ? 20 : few_epochs;
    if (!nn_option_given(opts, nopts, "--transfer-epochs"))
        transfer_epochs = quick ? 2 : full ? 10 : transfer_epochs;
    float few_lr = lr;   /* a small set takes the larger rate, even with --full */
    if (full && !nn_option_given(opts, nopts, "--lr")) lr = 1e-3f;
    int n_val = quick ? 200 : full ? 5000 : 1000;
    int n_test = quick ? 1000 : full ? 10000 : 5000;
    float Ts[MAX_T] = {1.0f, 2.0f, 4.0f, 8.0f};
    int nT = MAX_T;
    if (nn_option_given(opts, nopts, "--T")) Ts[0] = T_one, nT = 1;
    else if (quick) Ts[0] = 4.0f, nT = 1;

    printf("ch06 distillation (蒸馏): a big CNN teaches a small MLP\n");
    printf("  L = alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * "
           "CE(student, label)\n");
    printf("seed %llu, mode %s; student 784 -> %d -> 10, alpha %.2f\n", (unsigned long long)seed,
           quick ? "--quick" : full ? "--full" : "default (--full for the whole data set)",
           hidden, alpha);
    nn_seed(seed);
    nn_dataset tr, val, test;
    const char *data_name;
    if (fashion_open("distill", data_dir, n_train, n_val, n_test, quick ? 600 : 3000,
                     quick ? 300 : 1000, &tr, &val, &test, &data_name) != 0)
        return 1;
    printf("data (%s): %d training, %d test pictures\n", data_name, tr.n, test.n);

    /* ---- the teacher: trained on every picture WITH its label ---- */
    fashion_net teacher = fashion_cnn_new("teacher CNN", 0.25f);
    int failed = 0;
    double t0 = nn_seconds();
    if (teacher_file) {
        if (nn_model_load(teacher.model, teacher_file) != 0) {
            fprintf(stderr, "distill: --teacher: %s\n", nn_last_error());
            return 1;
        }
        printf("\n== teacher: chapter 3's CNN, %zu parameters, loaded from %s ==\n",
               teacher.model->count, teacher_file);
    } else {
        printf("\n== teacher: chapter 3's CNN, %zu parameters, %d epochs on all %d pictures, "
               "Adam lr %g -> 0 ==\n", teacher.model->count, teacher_epochs, tr.n, lr);
        fashion_train(&teacher, &tr, teacher_epochs, lr, NULL, NULL, false);
        char path[1024];   /* kept for --teacher: the next run skips this */
        if (nn_out_path(path, sizeof path, out_dir, "ch06_distill_teacher.nnck") &&
            nn_model_save(teacher.model, path) == 0)
            printf("  saved %s (pass it to --teacher next time)\n", path);
        else
            failed = 1, fprintf(stderr, "could not save the teacher: %s\n", nn_last_error());
    }
    float teacher_acc = fashion_evaluate(&teacher, &test, NULL, NULL);
    int teacher_err = (int)lroundf((1.0f - teacher_acc) * test.n);
    printf("  teacher test accuracy %.4f  %d errors  (%.1f s)\n", teacher_acc, teacher_err,
           nn_seconds() - t0);
    float *soft = teacher_logits(&teacher, &tr);
    float top1;
    printf("  on the %d training pictures: accuracy %.4f; soft targets, mean top probability:",
           tr.n, teacher_fit(soft, tr.labels, tr.n, 1.0f, &top1));
    printf(" T 1: %.3f", top1);
    for (int k = 0; k < nT; k++) {
        float top;
        teacher_fit(soft, tr.labels, tr.n, Ts[k], &top);
        if (Ts[k] != 1.0f) printf(", T %g: %.3f", Ts[k], top);
    }
    printf("\n");
    size_t teacher_params = teacher.model->count;
    nn_model_free(teacher.model);

    /* ---- the students: the same start, alone and distilled, few labels and all ---- */
    student_setup su = {seed + 1, hidden, epochs, few_epochs, lr, few_lr, transfer_epochs,
                        alpha, Ts, nT};
    run runs[MAX_RUNS] = {{.labelled = n_labels < tr.n ? n_labels : tr.n}, {.labelled = tr.n}};
    int nruns = runs[0].labelled < tr.n ? 2 : 1;
    size_t student_params = 0;
    for (int i = 0; i < nruns; i++)
        train_students(&runs[i], &su, &tr, &test, soft, &student_params);

    /* ---- summary ---- */
    printf("\n== test errors on %d pictures ==\n", test.n);
    if (teacher_file)
        printf("  teacher (CNN, %zu parameters), loaded: %d\n", teacher_params, teacher_err);
    else
        printf("  teacher (CNN, %zu parameters), all %d labels: %d\n", teacher_params, tr.n,
               teacher_err);
    printf("  students (784 -> %d -> 10, %zu parameters):\n", hidden, student_params);
    printf("  %-34s", "");
    for (int k = 0; k < nT; k++) printf("   T %-3g", Ts[k]);
    printf("\n");
    int best_dist[MAX_RUNS], best_trans = 0;
    for (int i = 0; i < nruns; i++) {
        const run *r = &runs[i];
        int alone_err = (int)lroundf((1.0f - r->alone) * test.n);
        char what[64];
        snprintf(what, sizeof what, "%d labels, alone", r->labelled);
        printf("  %-34s %7d\n", what, alone_err);
        snprintf(what, sizeof what, "%d labels, distilled", r->labelled);
        best_dist[i] = print_errors(what, r->dist, nT, test.n, alone_err, Ts);
        if (r->transfer)
            best_trans = print_errors("  + soft targets on all pictures", r->trans, nT, test.n,
                                      alone_err, Ts);
    }
    printf("  (T is picked on the test set here, for the table; pick it on a validation split "
           "in real work)\n");
    printf("  yardstick (Hinton et al. 2015): MNIST, big net 67 errors, small net alone 146, "
           "distilled 74;\n  speech, 3%% of the data: hard targets 44.5%% accuracy, soft "
           "targets 57.0%% (all the data: 58.9%%)\n");

    float line_t[2] = {Ts[0], Ts[nT - 1]}, line_teacher[2] = {teacher_acc, teacher_acc};
    float line_alone[MAX_RUNS][2];
    nn_series series[1 + 3 * MAX_RUNS];
    char names[3 * MAX_RUNS][64];
    int ns = 0;
    series[ns++] = (nn_series){"teacher (CNN)", line_t, line_teacher, 2, NN_PLOT_LINE};
    nn_plot_style style = nT > 1 ? NN_PLOT_LINE : NN_PLOT_POINTS;
    for (int i = 0; i < nruns; i++) {
        const run *r = &runs[i];
        line_alone[i][0] = line_alone[i][1] = r->alone;
        snprintf(names[3 * i], sizeof names[0], "alone, %d labels", r->labelled);
        snprintf(names[3 * i + 1], sizeof names[0], "distilled, %d labels", r->labelled);
        series[ns++] = (nn_series){names[3 * i], line_t, line_alone[i], 2, NN_PLOT_LINE};
        series[ns++] = (nn_series){names[3 * i + 1], Ts, runs[i].dist, nT, style};
        if (!r->transfer) continue;
        snprintf(names[3 * i + 2], sizeof names[0], "distilled, %d labels + transfer set",
                 r->labelled);
        series[ns++] = (nn_series){names[3 * i + 2], Ts, runs[i].trans, nT, style};
    }
    failed |= nn_plot_svg_in(out_dir, "ch06_distill.svg",
                             "Distillation on Fashion-MNIST: the student's test accuracy",
                             "temperature T", "test accuracy", series, ns) != 0;

    /* one line; few = the few labels, all = every label */
    const run *few = &runs[0], *all = &runs[nruns - 1];
#define ERRORS(acc) ((int)lroundf((1.0f - (acc)) * test.n))
    printf("result: data=%s train=%d test=%d hidden=%d alpha=%.2f teacher_errors=%d labels=%d "
           "few_alone_errors=%d few_distilled_errors=%d few_best_T=%g", data_name, tr.n, test.n,
           hidden, alpha, teacher_err, few->labelled, ERRORS(few->alone),
           ERRORS(few->dist[best_dist[0]]), Ts[best_dist[0]]);
    if (few->transfer)
        printf(" few_transfer_errors=%d few_transfer_T=%g", ERRORS(few->trans[best_trans]),
               Ts[best_trans]);
    if (nruns > 1)
        printf(" all_alone_errors=%d all_distilled_errors=%d all_best_T=%g", ERRORS(all->alone),
               ERRORS(all->dist[best_dist[1]]), Ts[best_dist[1]]);
    printf(" teacher_params=%zu student_params=%zu\n", teacher_params, student_params);
#undef ERRORS

    free(soft);
    nn_dataset_free(&tr), nn_dataset_free(&val), nn_dataset_free(&test);
    nn_graph_release();
    return failed ? 1 : 0;
}
