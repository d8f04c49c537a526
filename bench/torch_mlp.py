#!/usr/bin/env python3
"""The PyTorch twin of bench/bench_mlp.c: the same MLP step (784 -> 256 -> 10, batch 64,
ReLU, cross-entropy, Adam), timed the same way. Needs Debian's python3-torch.
Usage: torch_mlp.py [steps] [batch]"""
import sys
import time

import torch

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
torch.manual_seed(1)
model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(batch, 784)
labels = torch.arange(batch) % 10
total, best = 0.0, 1e9
for s in range(steps + 3):
    t0 = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(model(x), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    if s >= 3:
        total += dt
        best = min(best, dt)
mean = total / steps
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads: mean {mean * 1e3:.3f} ms/step, "
      f"best {best * 1e3:.3f} ms/step, {batch / mean:.0f} samples/s")
print(f"result: ms_per_step={mean * 1e3:.3f}")
