#!/usr/bin/env python3
"""The PyTorch twin of `bench_workloads --workload rnn`: embedding 32 (normal(0, 1)), a GRU
of hidden size 128 (nn.GRU: the same gate formulas and uniform(+-1/sqrt(H)) start as libnn's
GRU cell), a linear layer to V = 2502 (Xavier uniform, zero bias); T 64, batch 32, Adam 2e-3,
gradient clipping at norm 1.0, on the synthetic token stream of bench/bench_workloads.c.
Usage: char_rnn.py [--threads N] [--quick] [--steps N] [--warmup N] [--seed N]"""
import sys

import torch

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
import common  # noqa: E402


class CharRNN(torch.nn.Module):
    def __init__(self, vocab, embed, hidden):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, embed)
        self.gru = torch.nn.GRU(embed, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, vocab)
        torch.nn.init.xavier_uniform_(self.out.weight)
        torch.nn.init.zeros_(self.out.bias)

    def forward(self, ids):                      # (B, T) -> logits (B, T, V)
        h, _ = self.gru(self.emb(ids))           # the state starts at zeros
        return self.out(h)


def main():
    args = common.parse_args(__doc__, images=False)
    model = CharRNN(common.VOCAB, 32, 128)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    common.run_sequences("rnn", "rnn emb 32 + GRU 128", model, opt, args)


if __name__ == "__main__":
    main()
