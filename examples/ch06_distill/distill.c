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
 * Teacher: chapter 3's CNN (examples/common/fashion_nets.h; 206,922 parameters), the best
 * network of chapter 3 and quicker to train here than Hinton's 1200-1200 MLP. Student: an MLP
 * with ONE hidden layer of 32 (784 -> 32 -> 10, 25,450 parameters, 8x smaller), trained twice
 * from the same starting weights and the same batch order: on the labels alone (alpha = 0),
 * and distilled, at T = 1, 2, 4 and 8 with alpha 0.9. All tested on held-out test pictures;
 * errors are counted too. The teacher's logits on the training pictures are computed once,
 * with dropout off.
 * The yardstick: Hinton et al. 2015, MNIST: a big net made 67 test errors, a small one trained
 * alone 146, the same small one distilled from the big one 74. Here the 32-unit student gains
 * little, and higher T hurts: a student far too small for the teacher's knowledge does best at
 * low T (Hinton et al. say so too). --hidden and --alpha let you look for where soft targets
 * pay (at the default size, hidden 128 and 512 gained nothing either).
 *
 *   distill [--quick | --full] [--hidden H] [--T X] [--alpha X] [--seed N] [--data DIR]
 *           [--out DIR] [--train N] [--teacher-epochs N] [--epochs N] [--lr X]
 *   default  4,000 training pictures, teacher 6 epochs, students 10 epochs each, 5,000 test
 *            pictures: about 15 s of one core
 *   --full   55,000 training pictures, teacher 10 epochs, students 20 epochs, lr 0.001, the
 *            10,000 test pictures (about 7 minutes of one core): teacher 851 errors, student
 *            alone 1305, distilled 1296 at T 1 (1336, 1409, 1497 at T 2, 4, 8)
 *   --quick  1,000 pictures, teacher 2 epochs, students 3 epochs, T = 4 only (the smoke tests)
 * --T X trains one distilled student at that temperature instead of the sweep.
 * Without Debian's dataset-fashion-mnist it runs on a synthetic stand-in (and says so).
 * Writes DIR/ch06_distill.svg: test accuracy against T, with the teacher and the student
 * alone as lines.
 */
#include "../common/fashion_nets.h"

enum { MAX_T = 4 };

/* What the distillation loss needs per batch: the teacher's logits of every training picture
 * (row i = picture i of the data set), the temperature and the weight. */
typedef struct soft_targets {
    const float *teacher;   /* (n, 10) */
    float T, alpha;
} soft_targets;

/* fashion_train_with's batch loss: the teacher's rows of this batch's pictures, then
 * nn_distill_loss. */
static nn_tensor *distill_batch_loss(nn_tensor *logits, const int *labels, const int *samples,
                                     int B, void *ctx) {
    const soft_targets *st = ctx;
    nn_tensor *t = nn_graph_tensor(2, (int[]){B, FASHION_CLASSES}, false);   /* (B, 10) */
    for (int i = 0; i < B; i++)
        memcpy(t->data + (size_t)i * FASHION_CLASSES,
               st->teacher + (size_t)samples[i] * FASHION_CLASSES, FASHION_CLASSES * sizeof(float));
    return nn_distill_loss(logits, t, labels, st->T, st->alpha);
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

/* One student, from the seed `init` (the same starting weights and batch order every time):
 * on the labels alone when st is NULL, else distilled. Returns its test accuracy. */
static float train_student(const char *what, uint64_t init, int hidden, nn_dataset *tr,
                           const nn_dataset *test, int epochs, float lr, soft_targets *st,
                           size_t *params) {
    nn_seed(init);
    fashion_net n = fashion_mlp_new("student", hidden, 0);
    *params = n.model->count;
    double t0 = nn_seconds();
    float loss = fashion_train_with(&n, tr, epochs, lr, st ? distill_batch_loss : NULL, st, NULL,
                                    NULL, true);
    float acc = fashion_evaluate(&n, test, NULL, NULL);
    printf("  %-30s train loss %.4f  test accuracy %.4f  %5d errors  %.1f s\n", what, loss, acc,
           (int)lroundf((1.0f - acc) * test->n), nn_seconds() - t0);
    nn_model_free(n.model);
    return acc;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    uint64_t seed = 42;
    const char *data_dir = NULL, *out_dir = "out";
    int n_train = 4000, hidden = 32, teacher_epochs = 6, epochs = 10;
    float T_one = 0 /* not set: the sweep */, alpha = 0.9f, lr = 3e-3f;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests (a few seconds)"),
        NN_OPT_FLAG("--full", &full, "55,000 training pictures, more epochs (minutes)"),
        NN_OPT_INT("--hidden", &hidden, 4, 4096, "the student's hidden layer"),
        NN_OPT_FLOAT("--T", &T_one, 0.05, 100, "one temperature instead of the sweep 1, 2, 4, 8"),
        NN_OPT_FLOAT("--alpha", &alpha, 0, 1, "the weight of the teacher's soft targets"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--data", &data_dir, "DIR", "the folder with the four Fashion-MNIST files "
                                               "(none: $NN_FASHION_MNIST_DIR, else "
                                               NN_FASHION_MNIST_DIR ")"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the picture"),
        NN_OPT_INT("--train", &n_train, 100, 59000,
                   "training pictures (1000 with --quick, 55000 with --full)"),
        NN_OPT_INT("--teacher-epochs", &teacher_epochs, 1, 100,
                   "the teacher's epochs (2 with --quick, 10 with --full)"),
        NN_OPT_INT("--epochs", &epochs, 1, 200,
                   "each student's epochs (3 with --quick, 20 with --full)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's starting learning rate (0.001 with --full)"),
    };
    const int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Knowledge distillation (蒸馏) on Fashion-MNIST: chapter 3's CNN teaches a\n"
                     "one-hidden-layer MLP 8x smaller; the student trained on the labels alone\n"
                     "vs on the teacher's soft targets at temperature T. Without the data set it\n"
                     "runs on a synthetic stand-in.",
                     opts, nopts);
    if (quick) full = false;   /* --quick wins */
    if (!nn_option_given(opts, nopts, "--train")) n_train = quick ? 1000 : full ? 55000 : n_train;
    if (!nn_option_given(opts, nopts, "--teacher-epochs"))
        teacher_epochs = quick ? 2 : full ? 10 : teacher_epochs;
    if (!nn_option_given(opts, nopts, "--epochs")) epochs = quick ? 3 : full ? 20 : epochs;
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

    /* ---- the teacher ---- */
    fashion_net teacher = fashion_cnn_new("teacher CNN", 0.25f);
    printf("\n== teacher: chapter 3's CNN, %zu parameters, %d epochs, Adam lr %g -> 0 ==\n",
           teacher.model->count, teacher_epochs, lr);
    double t0 = nn_seconds();
    fashion_train(&teacher, &tr, teacher_epochs, lr, NULL, NULL, false);
    float teacher_acc = fashion_evaluate(&teacher, &test, NULL, NULL);
    int teacher_err = (int)lroundf((1.0f - teacher_acc) * test.n);
    printf("  teacher test accuracy %.4f  %d errors  (%.1f s)\n", teacher_acc, teacher_err,
           nn_seconds() - t0);
    float *soft = teacher_logits(&teacher, &tr);
    float top1;
    printf("  on its %d training pictures: accuracy %.4f; soft targets, mean top probability:",
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

    /* ---- the students: the same start, alone and distilled ---- */
    uint64_t init = seed + 1;
    size_t student_params = 0;
    printf("\n== students: 784 -> %d -> 10, %d epochs each, the same starting weights and batch "
           "order ==\n", hidden, epochs);
    float alone = train_student("alone (labels, alpha 0)", init, hidden, &tr, &test, epochs, lr,
                                NULL, &student_params);
    float dist[MAX_T];
    for (int k = 0; k < nT; k++) {
        soft_targets st = {soft, Ts[k], alpha};
        char what[64];
        snprintf(what, sizeof what, "distilled, T %g, alpha %.2f", Ts[k], alpha);
        dist[k] = train_student(what, init, hidden, &tr, &test, epochs, lr, &st, &student_params);
    }
    int best = 0;
    for (int k = 1; k < nT; k++)
        if (dist[k] > dist[best]) best = k;

    /* ---- summary ---- */
    int alone_err = (int)lroundf((1.0f - alone) * test.n);
    int best_err = (int)lroundf((1.0f - dist[best]) * test.n);
    printf("\n== test errors on %d pictures ==\n", test.n);
    printf("  teacher (CNN, %zu parameters)        %5d  (accuracy %.4f)\n", teacher_params,
           teacher_err, teacher_acc);
    printf("  student alone (%zu parameters)        %5d  (accuracy %.4f)\n", student_params,
           alone_err, alone);
    printf("  student distilled, best T = %-4g     %5d  (accuracy %.4f): %+d errors vs alone\n",
           Ts[best], best_err, dist[best], best_err - alone_err);
    printf("  (T is picked on the test set here, for the table; pick it on a validation split "
           "in real work)\n");
    printf("  yardstick (Hinton et al. 2015, MNIST): big net 67 errors, small net alone 146, "
           "distilled 74\n");

    float line_t[2] = {Ts[0], Ts[nT - 1]}, line_teacher[2] = {teacher_acc, teacher_acc},
          line_alone[2] = {alone, alone};
    nn_series series[3] = {
        {"distilled student", Ts, dist, nT, nT > 1 ? NN_PLOT_LINE : NN_PLOT_POINTS},
        {"student alone (labels)", line_t, line_alone, 2, NN_PLOT_LINE},
        {"teacher (CNN)", line_t, line_teacher, 2, NN_PLOT_LINE},
    };
    int failed = nn_plot_svg_in(out_dir, "ch06_distill.svg",
                                "Distillation on Fashion-MNIST: the student's test accuracy",
                                "temperature T", "test accuracy", series, 3) != 0;

    printf("result: data=%s train=%d test=%d hidden=%d alpha=%.2f teacher_acc=%.4f "
           "teacher_errors=%d alone_acc=%.4f alone_errors=%d", data_name, tr.n, test.n, hidden,
           alpha, teacher_acc, teacher_err, alone, alone_err);
    for (int k = 0; k < nT; k++)
        printf(" distilled_T%g_acc=%.4f", Ts[k], dist[k]);
    printf(" best_T=%g distilled_errors=%d teacher_params=%zu student_params=%zu\n", Ts[best],
           best_err, teacher_params, student_params);

    free(soft);
    nn_dataset_free(&tr), nn_dataset_free(&val), nn_dataset_free(&test);
    nn_graph_release();
    return failed ? 1 : 0;
}
