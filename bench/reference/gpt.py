#!/usr/bin/env python3
"""The PyTorch twin of `bench_workloads --workload gpt`, written out by hand as libnn's nn_gpt
is (src/net/gpt.c, transformer.c, attention.c): token table (V, C) normal(0, 0.02) and learned
positions (T, C) normal(0, 0.01), added; 2 pre-LayerNorm blocks x = x + Attn(LN1(x)),
x = x + Proj(GELU_tanh(Fc(LN2(x)))); 4 causal heads, C 64, Fc C -> 4C; a final LayerNorm and
the head tied to the token table (logits = x E^T). Weights normal(0, 0.02), the two that write
into the residual stream normal(0, 0.02 / sqrt(2 * layers)), biases 0, LayerNorm eps 1e-5.
AdamW lr 3e-3, weight decay 0.01 on the matrices and tables only (libnn's `decay` flag:
not biases, not LayerNorm), gradient clipping at 1.0 (as chapter 5 trains); T 64, batch 32,
V 2502, the synthetic token stream of bench/bench_workloads.c.
Usage: gpt.py [--threads N] [--quick] [--steps N] [--warmup N] [--seed N]"""
import math
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import common  # noqa: E402

nn = torch.nn


def linear(n_in, n_out, std):
    layer = nn.Linear(n_in, n_out)
    nn.init.normal_(layer.weight, 0.0, std)
    nn.init.zeros_(layer.bias)
    return layer


class Block(nn.Module):
    def __init__(self, dim, heads, layers):
        super().__init__()
        residual_std = 0.02 / math.sqrt(2 * layers)
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = linear(dim, 3 * dim, 0.02)
        self.out = linear(dim, dim, residual_std)
        self.fc = linear(dim, 4 * dim, 0.02)
        self.proj = linear(4 * dim, dim, residual_std)

    def attention(self, x):                                  # (B, T, C) -> (B, T, C)
        B, T, C = x.shape
        d = C // self.heads
        q, k, v = (t.view(B, T, self.heads, d).transpose(1, 2)   # (B, H, T, d)
                   for t in self.qkv(x).split(C, dim=2))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d)          # (B, H, T, T)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)        # j > i: the future
        weights = scores.masked_fill(mask, float("-inf")).softmax(-1)
        return self.out((weights @ v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class TinyGPT(nn.Module):
    def __init__(self, vocab, context, dim, heads, layers):
        super().__init__()
        self.tok = nn.Parameter(torch.randn(vocab, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(context, dim) * 0.01)
        self.blocks = nn.ModuleList(Block(dim, heads, layers) for _ in range(layers))
        self.ln_f = nn.LayerNorm(dim)

    def forward(self, ids):                                  # (B, T) -> logits (B, T, V)
        x = self.tok[ids] + self.pos[:ids.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x) @ self.tok.t()                   # the head tied to the table


def main():
    args = common.parse_args(__doc__, images=False)
    model = TinyGPT(common.VOCAB, common.SEQ_T, 64, 4, 2)
    decay = [p for n, p in model.named_parameters() if n in ("tok", "pos") or
             (n.endswith(".weight") and p.dim() == 2)]
    rest = [p for n, p in model.named_parameters() if not any(p is q for q in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": rest, "weight_decay": 0.0}], lr=3e-3)
    common.run_sequences("gpt", "gpt 2 blocks x 4 heads, C 64", model, opt, args)


if __name__ == "__main__":
    main()
