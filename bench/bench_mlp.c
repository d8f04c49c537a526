/* bench/bench_mlp.c — time one training step of an MNIST-sized MLP, 784 -> 256 -> 10, batch 64:
 * forward, cross-entropy, backward, Adam. Prints milliseconds per step and samples/second, and
 * the graph arena's peak bytes (memory a step needs). bench/torch_mlp.py times the same step
 * in PyTorch; bench/compare_torch.sh runs both and prints the ratio.
 * Usage: bench_mlp [--quick] [--steps N] [--batch B]                                       */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    bool quick = false;
    int steps = 300, batch = 64;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "20 steps (unless --steps says otherwise)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps to time"),
        NN_OPT_INT("--batch", &batch, 1, 65536, "samples per step"),
    };
    nn_parse_options(argc, argv, "Times one training step of a 784-256-10 MLP.", opts,
                     NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 20;
    nn_seed(1);
    nn_model *m = nn_model_new();
    nn_linear_layer *l1 = nn_linear_layer_new(m, "fc1", 784, 256, NN_INIT_HE);
    nn_linear_layer *l2 = nn_linear_layer_new(m, "fc2", 256, 10, NN_INIT_XAVIER);
    nn_optim *adam = nn_adam_new(m, 1e-3f, 0.0f);
    nn_tensor *x = nn_rand_uniform(0, 1, NN_SHAPE(batch, 784));
    int *labels = malloc(sizeof(int) * (size_t)batch);
    for (int i = 0; i < batch; i++) labels[i] = i % 10;

    double best = 1e9, total = 0;
    float loss = 0;
    for (int s = 0; s < steps + 3; s++) { /* 3 warm-up steps are not counted */
        double t0 = nn_seconds();
        nn_tensor *logits = nn_linear_layer_forward(l2, nn_relu(nn_linear_layer_forward(l1, x)));
        nn_tensor *ce = nn_cross_entropy_loss(logits, labels);
        nn_model_zero_grad(m);
        nn_backward(ce);
        nn_optim_step(adam);
        loss = nn_item(ce);
        nn_graph_clear();
        double dt = nn_seconds() - t0;
        if (s >= 3) {
            total += dt;
            if (dt < best) best = dt;
        }
    }
    double mean = total / steps;
    printf("MLP 784-256-10, batch %d, %zu parameters, %d steps\n", batch, m->count, steps);
    printf("  mean %.3f ms/step, best %.3f ms/step, %.0f samples/s\n", mean * 1e3, best * 1e3,
           batch / mean);
    printf("  graph arena peak %.2f MiB, final loss %.4f\n", nn_graph_bytes_peak() / 1048576.0,
           loss);
    printf("result: ms_per_step=%.3f samples_per_s=%.0f arena_peak_mib=%.2f\n", mean * 1e3,
           batch / mean, nn_graph_bytes_peak() / 1048576.0);
    free(labels);
    nn_tensor_free(x);
    nn_optim_free(adam);
    nn_model_free(m);
    nn_graph_release();
    return 0;
}
