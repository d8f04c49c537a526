/* src/data/fashion_mnist.c — Fashion-MNIST from the four IDX files of Debian's dataset-fashion-mnist. */
#include "internal.h"
#include "nn/data/idx.h"
#include "nn/data/dataset.h"
#include "nn/data/fashion_mnist.h"
#include <stdio.h>
#include <sys/stat.h>

const char *const nn_fashion_mnist_classes[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};
const char *const nn_fashion_mnist_classes_zh[10] = {
    "T恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴",
};

/* "<dir>/<base>.gz" when it exists, else "<dir>/<base>"; NULL (and nn_last_error) if neither. */
static char *find_file(const char *dir, const char *base) {
    size_t n = strlen(dir) + strlen(base) + 8;
    char *p = nn_xmalloc(n);
    struct stat st;
    snprintf(p, n, "%s/%s.gz", dir, base);
    if (stat(p, &st) == 0) return p;
    snprintf(p, n, "%s/%s", dir, base);
    if (stat(p, &st) == 0) return p;
    nn_set_last_error("nn_fashion_mnist_load: cannot find '%s/%s.gz' (nor %s without .gz). "
                      "On Debian/Ubuntu: sudo apt install dataset-fashion-mnist (it installs "
                      "into %s), or pass the folder that holds the four IDX files, or set "
                      "NN_FASHION_MNIST_DIR", dir, base, base, NN_FASHION_MNIST_DIR);
    free(p);
    return NULL;
}

/* The IDX reader's message, said by nn_fashion_mnist_load (the function the user called).
 * Returns -1. */
static int idx_failed(void) {
    char why[2048];
    snprintf(why, sizeof why, "%s", nn_last_error());
    return nn_set_last_error("nn_fashion_mnist_load: %s", why);
}

/* Load one split ("train" or "t10k") into *ds, as floats or (as_bytes) as the files' bytes.
 * 0, or -1 with nothing allocated. */
static int load_split(const char *dir, const char *prefix, int limit, bool as_bytes,
                      nn_dataset *ds) {
    char base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    char *img_path = find_file(dir, base);
    if (!img_path) return -1;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    char *lab_path = find_file(dir, base);
    if (!lab_path) {
        free(img_path);
        return -1;
    }
    nn_tensor *X = NULL;
    unsigned char *bytes = NULL;
    int count = 0, rows = 0, cols = 0;   /* the images' */
    if (as_bytes) {
        bytes = nn_idx_load_image_bytes(img_path, limit, &count, &rows, &cols);
    } else if ((X = nn_idx_load_images(img_path, limit))) {
        count = X->shape[0], rows = X->shape[2], cols = X->shape[3];
    }
    bool images = X || bytes;
    int n = 0;
    int *labels = images ? nn_idx_load_labels(lab_path, limit, &n) : NULL;
    int rc = !images || !labels ? idx_failed() : 0;
    if (rc == 0 && (rows != 28 || cols != 28))
        rc = nn_set_last_error("nn_fashion_mnist_load: '%s' holds images of %d x %d pixels, but "
                               "Fashion-MNIST's are 28 x 28; is it another data set?", img_path,
                               rows, cols);
    char limited[48] = "";
    if (limit > 0) snprintf(limited, sizeof limited, " (reading at most %d of each)", limit);
    if (rc == 0 && n != count)
        rc = nn_set_last_error("nn_fashion_mnist_load: '%s' has %d images but '%s' has %d "
                               "labels%s; the two files must come from the same split",
                               img_path, count, lab_path, n, limited);
    for (int i = 0; rc == 0 && i < n; i++)
        if (labels[i] > 9)
            rc = nn_set_last_error("nn_fashion_mnist_load: '%s': label %d of item %d (counting "
                                   "from 0) is out of range; Fashion-MNIST has classes 0 .. 9",
                                   lab_path, labels[i], i);
    if (rc != 0) {
        nn_tensor_free(X);
        free(bytes);
        free(labels);
        free(img_path);
        free(lab_path);
        return -1;
    }
    free(img_path);
    free(lab_path);
    /* The data set takes what we loaded as it is (no copy). */
    memset(ds, 0, sizeof *ds);
    ds->X = X;
    ds->bytes = bytes;
    ds->byte_divisor = 255.0f;
    ds->x_ndim = 4;
    memcpy(ds->x_shape, (int[]){n, 1, 28, 28}, 4 * sizeof(int));
    ds->labels = labels;
    ds->n = n;
    ds->num_classes = 10;
    ds->order = nn_xmalloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) ds->order[i] = i;
    return 0;
}

static int load_both(const char *dir, nn_dataset *train, nn_dataset *test, int train_limit,
                     int test_limit, bool as_bytes) {
    if (!dir) dir = getenv("NN_FASHION_MNIST_DIR");
    if (!dir || !*dir) dir = NN_FASHION_MNIST_DIR;
    if (train) memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    if (train && load_split(dir, "train", train_limit, as_bytes, train) != 0) return -1;
    if (test && load_split(dir, "t10k", test_limit, as_bytes, test) != 0) {
        nn_dataset_free(train);
        return -1;
    }
    return 0;
}

int nn_fashion_mnist_load(const char *dir, nn_dataset *train, nn_dataset *test, int train_limit,
                          int test_limit) {
    return load_both(dir, train, test, train_limit, test_limit, false);
}

int nn_fashion_mnist_load_bytes(const char *dir, nn_dataset *train, nn_dataset *test,
                                int train_limit, int test_limit) {
    return load_both(dir, train, test, train_limit, test_limit, true);
}
