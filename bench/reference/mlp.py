#!/usr/bin/env python3
"""The PyTorch twin of `bench_workloads --workload mlp`: 784-128-10, ReLU, cross-entropy,
SGD lr 0.1 without momentum, batch 64, one epoch of Fashion-MNIST, then the test set.
The weights start as libnn's do: He normal for fc1, Xavier uniform for fc2, zero biases.
Usage: mlp.py [--threads N] [--quick] [--batches N] [--data DIR] [--seed N]"""
import sys

import torch

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import common  # noqa: E402


def main():
    args = common.parse_args(__doc__, images=True)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    torch.nn.init.kaiming_normal_(model[1].weight, nonlinearity="relu")
    torch.nn.init.xavier_uniform_(model[3].weight)
    for layer in (model[1], model[3]):
        torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    common.run_images("mlp", "mlp 784-128-10", model, opt, args)


if __name__ == "__main__":
    main()
