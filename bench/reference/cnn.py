#!/usr/bin/env python3
"""The PyTorch twin of `bench_workloads --workload cnn`: conv 3x3 1->8 (padding 1) + ReLU,
maxpool 2, conv 3x3 8->16 (padding 1) + ReLU, maxpool 2, linear 784->10; SGD lr 0.05
momentum 0.9, batch 64, one epoch of Fashion-MNIST, then the test set. The weights start as
libnn's do: He normal for the convolutions, Xavier uniform for the linear layer, zero biases.
Usage: cnn.py [--threads N] [--quick] [--batches N] [--data DIR] [--seed N]"""
import sys

import torch

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import common  # noqa: E402


def main():
    args = common.parse_args(__doc__, images=True)
    nn = torch.nn
    relu = nn.ReLU(inplace=True)   # one tensor, as libnn's nn_conv2d_relu
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), relu, nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), relu, nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    for conv in (model[0], model[3]):
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")   # fan-in: in_ch * 3 * 3
        nn.init.zeros_(conv.bias)
    nn.init.xavier_uniform_(model[7].weight)
    nn.init.zeros_(model[7].bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    common.run_images("cnn", "cnn 1-8-16", model, opt, args)


if __name__ == "__main__":
    main()
