"""What the four PyTorch twins of bench/bench_workloads.c share: the command line, threads,
Fashion-MNIST, the synthetic token stream (the same splitmix64 ids as the C side), the timed
loops and the `result:` line that bench/compare.sh reads. Needs Debian's python3-torch."""
import argparse
import gzip
import os
import resource
import struct
import time

import torch

IMAGE_BATCH, EVAL_BATCH = 64, 64
SEQ_BATCH, SEQ_T, VOCAB, STREAM_LEN = 32, 64, 2502, 1 << 16
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
MASK64 = (1 << 64) - 1


def parse_args(description, images):
    """The options of bench_workloads that apply to this workload, plus --threads."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke test: 50 batches and 1,000 test pictures, or 1 + 3 steps")
    p.add_argument("--seed", type=int, default=1)
    if images:
        p.add_argument("--batches", type=int, default=None,
                       help="training batches (default: the whole epoch)")
        p.add_argument("--data", default=os.environ.get("NN_FASHION_MNIST_DIR", FASHION_DIR))
    else:
        p.add_argument("--steps", type=int, default=None, help="timed steps (50)")
        p.add_argument("--warmup", type=int, default=None, help="untimed steps first (5)")
    a = p.parse_args()
    if images:
        if a.batches is None:
            a.batches = 50 if a.quick else 0
        a.test_limit = 1000 if a.quick else 0
    else:
        a.steps = a.steps if a.steps is not None else (3 if a.quick else 50)
        a.warmup = a.warmup if a.warmup is not None else (1 if a.quick else 5)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    print(f"seed {a.seed}, PyTorch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    return a


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # KiB on Linux


def report(workload, unit, seconds, loss, final_loss, test_acc):
    acc = "-" if test_acc is None else f"{test_acc:.4f}"
    rss = peak_rss_mib()
    print(f"  {workload} {seconds:.3f} {unit}, peak RSS {rss:.1f} MiB, mean loss {loss:.4f}, "
          f"last {final_loss:.4f}, test accuracy {acc}")
    print(f"result: workload={workload} threads={torch.get_num_threads()} time={seconds:.4f} "
          f"unit={unit} peak_rss_mib={rss:.1f} loss={loss:.4f} final_loss={final_loss:.4f} "
          f"test_acc={acc}")


# ---- Fashion-MNIST ----------------------------------------------------------------------

def read_idx(path, limit):
    """An IDX file (gzip) as a uint8 tensor: (N, 28, 28) images or (N,) labels."""
    with gzip.open(path, "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        dims = [n] + [struct.unpack(">I", f.read(4))[0] for _ in range((magic & 0xFF) - 1)]
        if limit:
            dims[0] = min(n, limit)
        count = 1
        for d in dims:
            count *= d
        return torch.frombuffer(bytearray(f.read(count)), dtype=torch.uint8).reshape(dims)


def load_fashion(folder, train_limit, test_limit):
    """Pictures stay bytes; each batch becomes floats in [0, 1] when it is used."""
    def split(prefix, limit):
        return (read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), limit),
                read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), limit).long())
    return split("train", train_limit), split("t10k", test_limit)


def as_input(images):
    return images.unsqueeze(1).float().div_(255.0)    # (B, 1, 28, 28)


def run_images(workload, title, model, opt, args):
    """One epoch in a shuffled order, timed; then the test set's accuracy."""
    try:
        (xtr, ytr), (xte, yte) = load_fashion(args.data, args.batches * IMAGE_BATCH,
                                              args.test_limit)
    except OSError as e:
        raise SystemExit(f"{workload}: Fashion-MNIST not found ({e}); install Debian's "
                         "dataset-fashion-mnist or pass --data DIR")
    n = xtr.shape[0]
    print(f"{title}: {sum(p.numel() for p in model.parameters())} parameters, {n} training "
          f"pictures, batch {IMAGE_BATCH}, {xte.shape[0]} test pictures")
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(n)
    loss_sum, last = 0.0, 0.0
    t0 = time.perf_counter()
    for s in range(0, n, IMAGE_BATCH):
        idx = order[s:s + IMAGE_BATCH]
        loss = loss_fn(model(as_input(xtr[idx])), ytr[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        last = loss.item()
        loss_sum += last * idx.shape[0]
    seconds = time.perf_counter() - t0
    right = 0
    with torch.no_grad():
        for s in range(0, xte.shape[0], EVAL_BATCH):
            pred = model(as_input(xte[s:s + EVAL_BATCH])).argmax(1)
            right += (pred == yte[s:s + EVAL_BATCH]).sum().item()
    report(workload, "s/epoch", seconds, loss_sum / n, last, right / xte.shape[0])


# ---- the synthetic token stream ---------------------------------------------------------

class SplitMix64:
    """splitmix64, as in bench/bench_workloads.c: the same seed gives the same ids."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def token_stream(rng):
    """next = (31 * id + 7 + one of 0..3) mod V"""
    ids = [0] * STREAM_LEN
    for i in range(1, STREAM_LEN):
        ids[i] = (31 * ids[i - 1] + 7 + rng.next() % 4) % VOCAB
    return torch.tensor(ids, dtype=torch.long)


def token_batch(stream, rng):
    starts = [rng.next() % (STREAM_LEN - SEQ_T - 1) for _ in range(SEQ_BATCH)]
    x = torch.stack([stream[s:s + SEQ_T] for s in starts])
    y = torch.stack([stream[s + 1:s + SEQ_T + 1] for s in starts])
    return x, y


def run_sequences(workload, title, model, opt, args):
    """warmup + steps training steps; the mean time of the timed ones, in ms."""
    print(f"{title}: {sum(p.numel() for p in model.parameters())} parameters, V {VOCAB}, "
          f"T {SEQ_T}, batch {SEQ_BATCH}, {args.warmup} warm-up + {args.steps} timed steps")
    rng = SplitMix64(args.seed)
    stream = token_stream(rng)
    seconds, loss_sum, last = 0.0, 0.0, 0.0
    for s in range(args.warmup + args.steps):
        x, y = token_batch(stream, rng)   # not timed, as on the C side
        t0 = time.perf_counter()
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        last = loss.item()
        if s >= args.warmup:
            seconds += time.perf_counter() - t0
            loss_sum += last
    report(workload, "ms/step", 1e3 * seconds / args.steps, loss_sum / args.steps, last, None)
