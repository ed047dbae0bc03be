#!/usr/bin/python3
"""PyTorch peer of @genrec/model-tiger's decoder-only model (nn.causalTransformer), for interop and step time.

The same module in PyTorch, with genrec's parameter names and PyTorch's [out, in] layout (the
module's state_dict keys ARE the names of @genrec/nn's canonical decoder-only model):
embedding.weight [V, d] (tied output), position.weight [maxLength, d] indexed by each token's rank
among the row's non-padding tokens ('sequence' positions), pre-LN blocks
x + Attn(LN1(x)), x + FFN(LN2(x)) with ReLU, attention scaled by 1/sqrt(headDimension), keys equal
to the pad token and later tokens masked with -1e9, a final LayerNorm, logits = h E^T. Debian's
python3-torch 1.13 has no safetensors module: the format is parsed and written here.

Modes (config: a JSON file with vocabularySize, modelDimension, heads, headDimension,
feedForwardDimension, layers, maxLength, padToken, layerNormEpsilon):
  logits --config C --weights W.safetensors --tokens T.json --out L.f32
      float32 logits [batch, length, V] of the tokens (int rows, padding 0) in eval mode.
  train  --config C --weights W.safetensors --batch B.json --steps N --lr 1e-3 --out W2.safetensors
      N AdamW steps (betas 0.9/0.98, eps 1e-8, weight decay 0.01, clip 1.0) on the batch
      ({tokens, labels}, labels -100 = ignored), dropout 0; writes the trained weights.
  bench  --config C --batch-size 256 --length 83 --steps 30 --warmup 5 --threads 2 --dropout 0.1
      median / mean ms of a full training step (forward, backward, AdamW) on random tokens; one JSON line.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    body = memoryview(data)[8 + size :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64}[info["dtype"]]
        out[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name, array in tensors.items():
        array = np.ascontiguousarray(array, dtype=np.float32)
        blob = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


class Attention(nn.Module):
    def __init__(self, d, heads, head_dim, dropout):
        super().__init__()
        a = heads * head_dim
        self.heads, self.head_dim, self.dropout = heads, head_dim, dropout
        self.q = nn.Linear(d, a, bias=False)
        self.k = nn.Linear(d, a, bias=False)
        self.v = nn.Linear(d, a, bias=False)
        self.out = nn.Linear(a, d, bias=False)

    def forward(self, x, allowed):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~allowed, -1e9)
        weights = nn.functional.dropout(torch.softmax(scores, -1), self.dropout, self.training)
        return self.out(torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, d, f, dropout):
        super().__init__()
        self.fc1 = nn.Linear(d, f, bias=False)
        self.fc2 = nn.Linear(f, d, bias=False)
        self.dropout = dropout

    def forward(self, x):
        return self.fc2(nn.functional.dropout(torch.relu(self.fc1(x)), self.dropout, self.training))


class Layer(nn.Module):
    def __init__(self, c, dropout):
        super().__init__()
        d = c["modelDimension"]
        eps = c.get("layerNormEpsilon", 1e-5)
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.self_attn = Attention(d, c["heads"], c.get("headDimension", d // c["heads"]), dropout)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.ffn = FeedForward(d, c["feedForwardDimension"], dropout)
        self.dropout = dropout

    def forward(self, x, allowed):
        drop = lambda y: nn.functional.dropout(y, self.dropout, self.training)
        x = x + drop(self.self_attn(self.norm1(x), allowed))
        return x + drop(self.ffn(self.norm2(x)))


class CausalTransformer(nn.Module):
    """nn.causalTransformer of @genrec/nn with positions 'sequence', no biases, tied output."""

    def __init__(self, c, dropout=0.0):
        super().__init__()
        d = c["modelDimension"]
        self.pad = c.get("padToken", 0)
        self.dropout = dropout
        self.embedding = nn.Embedding(c["vocabularySize"], d)
        self.position = nn.Embedding(c["maxLength"], d)
        self.layers = nn.ModuleList([Layer(c, dropout) for _ in range(c["layers"])])
        self.norm = nn.LayerNorm(d, eps=c.get("layerNormEpsilon", 1e-5))

    def forward(self, tokens):
        t = tokens.shape[1]
        real = tokens != self.pad
        positions = (real.long().cumsum(1) - 1).clamp(min=0)
        x = nn.functional.dropout(self.embedding(tokens) + self.position(positions), self.dropout, self.training)
        causal = torch.ones(t, t, dtype=torch.bool).tril()
        allowed = causal[None, None] & real[:, None, None, :]
        for layer in self.layers:
            x = layer(x, allowed)
        return torch.matmul(self.norm(x), self.embedding.weight.t())


def load_model(config, weights, dropout=0.0):
    model = CausalTransformer(config, dropout)
    state = {name: torch.from_numpy(value.astype(np.float32)) for name, value in read_safetensors(weights).items() if name in model.state_dict()}
    missing = set(model.state_dict()) - set(state)
    if missing:
        sys.exit(f"missing weights: {sorted(missing)}")
    model.load_state_dict(state)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["logits", "train", "bench"])
    parser.add_argument("--config", required=True)
    parser.add_argument("--weights")
    parser.add_argument("--tokens")
    parser.add_argument("--batch")
    parser.add_argument("--out")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--length", type=int, default=83)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with open(args.config) as f:
        config = json.load(f)
    if args.mode == "logits":
        model = load_model(config, args.weights).eval()
        with open(args.tokens) as f:
            tokens = torch.tensor(json.load(f), dtype=torch.long)
        with torch.no_grad():
            logits = model(tokens).numpy().astype(np.float32)
        logits.tofile(args.out)
        return
    if args.mode == "train":
        model = load_model(config, args.weights).train()
        with open(args.batch) as f:
            batch = json.load(f)
        tokens = torch.tensor(batch["tokens"], dtype=torch.long)
        labels = torch.tensor(batch["labels"], dtype=torch.long).view(-1)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
        for _ in range(args.steps):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(tokens).view(labels.shape[0], -1), labels, ignore_index=-100)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        write_safetensors(args.out, {name: value.detach().numpy() for name, value in model.state_dict().items()})
        print(json.dumps({"loss": float(loss)}))
        return
    # bench: the step of @genrec/model-tiger's decoder-only training on random tokens
    model = CausalTransformer(config, args.dropout).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
    generator = torch.Generator().manual_seed(1)
    v = config["vocabularySize"]
    tokens = torch.randint(3, v, (args.batch_size, args.length), generator=generator)
    labels = torch.randint(3, v, (args.batch_size * args.length,), generator=generator)
    times = []
    for step in range(args.warmup + args.steps):
        started = time.perf_counter()
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(tokens).view(labels.shape[0], -1), labels, ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step >= args.warmup:
            times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"implementation": "pytorch " + torch.__version__, "threads": args.threads, "batch": args.batch_size, "length": args.length,
                      "step_ms_median": float(np.median(times)), "step_ms_mean": float(np.mean(times)), "loss": float(loss)}))


if __name__ == "__main__":
    main()
