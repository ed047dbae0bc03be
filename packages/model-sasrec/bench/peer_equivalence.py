#!/usr/bin/python3
"""Equivalence check against the PyTorch peer (../shared/peers/sasrec_ce.py), Python half.

Run bench/peer-equivalence.ts first (its header has the commands); then, with Debian's python3 and
torch 1.13 (the peer's environment):

  /usr/bin/python3 bench/peer_equivalence.py train /tmp/sasrec-equivalence
  /usr/bin/python3 bench/peer_equivalence.py eval /tmp/sasrec-equivalence-eval

train: rebuilds the peer's training rows (make_training_arrays) and checks they equal
@genrec/data's rows; loads the TS initial parameters into the peer's SASRec class (imported from
the peer file; q/k/v packed into in_proj_weight / in_proj_bias), runs the same batches (the TS
first-epoch order) through the peer's train_step with Adam(0.9, 0.98, eps 1e-8), dropout as in the
TS run, and prints per dumped step the loss, the global gradient norm (step 1 before the update)
and the largest absolute parameter difference, against the same run in float64 (the float32
rounding scale).

full: the cross-over experiment (a full training, minutes to hours): the peer trained for --epochs
epochs (default: as many orders as the TS half wrote) from fitSasrec's initial weights and in
fitSasrec's batch orders, with its own dropout (--dropout, default 0.2, torch.manual_seed(seed)),
then the peer's test evaluation. If the peer then lands where fitSasrec does, the gap between the
two is the random draws (initial weights, batch orders), not the implementation.

eval: loads the weights of a saved model (written by the TS half) into the peer and ranks the test
users exactly as the peer's evaluate() does (strictly greater scores, history masked with -inf),
then compares per-user Recall@10 / NDCG@10 with @genrec/eval's evaluateRecommender.
"""
import json
import os
import sys

PEERS = os.environ.get("GENREC_PEERS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "peers"))
if not os.path.exists(os.path.join(PEERS, "sasrec_ce.py")):
    PEERS = "/work/shared/peers"
sys.path.insert(0, PEERS)
# importing sasrec_ce runs the peer's tune_runtime(): this script is re-executed once with tcmalloc and
# the OpenMP OpenBLAS (as the peer's own runs); PEERS_TUNE=0 skips that

import numpy as np  # noqa: E402
import torch  # noqa: E402

import sasrec_ce as peer  # noqa: E402
from _common import read_sequences  # noqa: E402

torch.set_num_threads(int(os.environ.get("THREADS", "1")))


def load_state(model, folder, d, n_blocks, shape_of):
    """Copies @genrec/nn-named float32 files into the peer's state dict."""
    def read(name):
        return torch.from_numpy(np.fromfile(os.path.join(folder, name + ".f32"), dtype=np.float32))
    sd = {}
    for key, value in model.state_dict().items():
        sd[key] = value.clone()
    sd["item_emb.weight"] = read("item_emb.weight").view_as(sd["item_emb.weight"])
    sd["pos_emb.weight"] = read("pos_emb.weight").view_as(sd["pos_emb.weight"])
    for b in range(n_blocks):
        for ln in ("attn_ln", "ffn_ln"):
            for p in ("weight", "bias"):
                sd[f"{ln}.{b}.{p}"] = read(f"{ln}.{b}.{p}")
        sd[f"attn.{b}.in_proj_weight"] = torch.cat([read(f"attn.{b}.{x}_proj_weight").view(d, d) for x in "qkv"], 0)
        sd[f"attn.{b}.in_proj_bias"] = torch.cat([read(f"attn.{b}.{x}_proj_bias") for x in "qkv"], 0)
        sd[f"attn.{b}.out_proj.weight"] = read(f"attn.{b}.out_proj.weight").view(d, d)
        sd[f"attn.{b}.out_proj.bias"] = read(f"attn.{b}.out_proj.bias")
        for fc in ("fc1", "fc2"):
            sd[f"ffn.{b}.{fc}.weight"] = read(f"ffn.{b}.{fc}.weight").view(d, d)
            sd[f"ffn.{b}.{fc}.bias"] = read(f"ffn.{b}.{fc}.bias")
    sd["last_ln.weight"] = read("last_ln.weight")
    sd["last_ln.bias"] = read("last_ln.bias")
    model.load_state_dict({k: v.to(model.item_emb.weight.dtype) for k, v in sd.items()})


def as_genrec(model, d, n_blocks):
    """The peer's parameters under @genrec/nn names (numpy float64)."""
    out = {}
    for key, value in model.state_dict().items():
        v = value.detach().double().numpy().copy()
        if key.endswith("in_proj_weight"):
            b = key.split(".")[1]
            for i, x in enumerate("qkv"):
                out[f"attn.{b}.{x}_proj_weight"] = v[i * d:(i + 1) * d].reshape(-1)
        elif key.endswith("in_proj_bias"):
            b = key.split(".")[1]
            for i, x in enumerate("qkv"):
                out[f"attn.{b}.{x}_proj_bias"] = v[i * d:(i + 1) * d].reshape(-1)
        else:
            out[key] = v.reshape(-1)
    return out


def read_genrec(folder, names):
    return {n: np.fromfile(os.path.join(folder, n + ".f32"), dtype=np.float32).astype(np.float64) for n in names}


def max_diff(a, b, skip=()):
    worst = max((n for n in a if not n.endswith(skip)), key=lambda n: float(np.abs(a[n] - b[n]).max()))
    return float(np.abs(a[worst] - b[worst]).max()), worst


def train(folder):
    man = json.load(open(os.path.join(folder, "manifest.json")))
    L, B, d = man["maxLength"], man["batchSize"], 64
    seqs, n_items = read_sequences(man["data"])
    tr, _, _, _ = peer.build_split(seqs)
    inp_all, tgt_all = peer.make_training_arrays(tr, L)
    ts_inp = np.fromfile(os.path.join(folder, "inputs.i32"), dtype=np.int32).reshape(-1, L)
    ts_tgt = np.fromfile(os.path.join(folder, "targets.i32"), dtype=np.int32).reshape(-1, L)
    assert n_items == man["itemCount"], (n_items, man["itemCount"])
    print(f"training rows: peer {inp_all.shape}, genrec {ts_inp.shape}; inputs equal: {np.array_equal(inp_all, ts_inp)}, "
          f"targets equal: {np.array_equal(tgt_all, ts_tgt)}; scored positions {int((tgt_all != 0).sum())}")
    order = np.fromfile(os.path.join(folder, "order.i32"), dtype=np.int32).astype(np.int64)
    names = list(man["sizes"])

    sites = man.get("masks")
    queue = []
    if sites:
        # replay the TS dropout masks: every dropout call of the peer (nn.Dropout and the attention
        # weights inside multi_head_attention_forward go through torch.nn.functional.dropout) takes
        # the next mask, in the TS graph's site order
        def replayed(input, p=0.5, training=True, inplace=False):
            if not training or p == 0.0:
                return input
            name, mask = queue.pop(0)
            assert mask.numel() == input.numel(), (name, mask.shape, input.shape)
            return input * mask.view_as(input).to(input.dtype) * (1.0 / (1.0 - p))
        torch.nn.functional.dropout = replayed
        sizes = [int(np.prod(x["shape"])) for x in sites]

    runs = {}
    for dtype in (torch.float32, torch.float64):
        torch.manual_seed(man["seed"])
        model = peer.SASRec(n_items, d, L, 2, 1, man["dropout"]).to(dtype)
        load_state(model, os.path.join(folder, "step0"), d, 2, None)
        opt = torch.optim.Adam(model.parameters(), lr=man["learningRate"], betas=(0.9, 0.98), eps=1e-8)
        model.train()
        losses, norms, params = [], [], {0: as_genrec(model, d, 2)}
        for s in range(man["steps"]):
            b0 = (s * B) % len(order)
            idx = order[b0:b0 + B]
            x, y = torch.from_numpy(inp_all[idx]), torch.from_numpy(tgt_all[idx])
            if sites:
                flat = torch.from_numpy(np.fromfile(os.path.join(folder, f"masks{s + 1}.u8"), dtype=np.uint8))
                offsets = np.cumsum([0] + sizes)
                # the TS batch has batchSize rows (a partial last batch is padded): keep the real rows
                queue[:] = [(site["name"], flat[offsets[i]:offsets[i + 1]].view(B, -1)[:len(idx)]) for i, site in enumerate(sites)]
            opt.zero_grad(set_to_none=True)
            loss = peer.ce_loss(model, x, y)
            loss.backward()
            assert not queue, f"{len(queue)} masks left over"
            norms.append(float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters()))))
            opt.step()
            losses.append(float(loss))
            if s + 1 in man["dumped"]:
                params[s + 1] = as_genrec(model, d, 2)
        runs[dtype] = (losses, norms, params)

    l32, n32, p32 = runs[torch.float32]
    l64, n64, p64 = runs[torch.float64]
    print("step | loss genrec / torch32 / torch64 | grad norm genrec / torch32 / torch64 | max|param diff| genrec-torch64, torch32-torch64, genrec-torch32 (worst tensor)")
    for s in man["dumped"]:
        g = read_genrec(os.path.join(folder, f"step{s}"), names)
        a, an = max_diff(g, p64[s])
        b, _ = max_diff(p32[s], p64[s])
        c, cn = max_diff(g, p32[s])
        if s == 0:
            print(f"{s:4d} | initial | | {a:.3e} {b:.3e} {c:.3e} ({cn})")
            continue
        i = s - 1
        # k_proj_bias has a zero gradient in exact arithmetic (softmax is shift invariant): Adam turns
        # its rounding noise into lr-sized steps on both sides, so the maxima are also given without it
        a2, _ = max_diff(g, p64[s], ("k_proj_bias",))
        b2, _ = max_diff(p32[s], p64[s], ("k_proj_bias",))
        c2, _ = max_diff(g, p32[s], ("k_proj_bias",))
        print(f"{s:4d} | {man['losses'][i]:.6f} {l32[i]:.6f} {l64[i]:.6f} | {man['gradientNorms'][i]:.6f} {n32[i]:.6f} {n64[i]:.6f} | "
              f"{a:.3e} ({an}) {b:.3e} {c:.3e} ({cn}); without k_proj_bias {a2:.3e} {b2:.3e} {c2:.3e}")
    print("loss |genrec - torch64| per step:", " ".join(f"{abs(x - y):.1e}" for x, y in zip(man["losses"], l64)))
    print("loss |torch32 - torch64| per step:", " ".join(f"{abs(x - y):.1e}" for x, y in zip(l32, l64)))


@torch.no_grad()
def peer_ranks(model, histories, targets, batch=1024):
    """The peer's evaluate(), returning the per-user ranks (unmasked, history masked)."""
    model.eval()
    table = model.item_table()
    raw, msk = np.empty(len(targets), np.int64), np.empty(len(targets), np.int64)
    for b0 in range(0, len(targets), batch):
        b1 = min(b0 + batch, len(targets))
        seq = torch.from_numpy(peer.left_pad_last(histories[b0:b1], model.maxlen))
        h = model.features(seq)[:, -1, :]
        scores = h @ table.t()
        tgt = torch.from_numpy(targets[b0:b1] - 1)
        ts = scores.gather(1, tgt.unsqueeze(1))
        raw[b0:b1] = (scores > ts).sum(1).numpy()
        rows = np.concatenate([np.full(len(histories[u]), i) for i, u in enumerate(range(b0, b1))])
        cols = np.concatenate([histories[u] - 1 for u in range(b0, b1)])
        scores[torch.from_numpy(rows), torch.from_numpy(cols)] = -float("inf")
        msk[b0:b1] = (scores > ts).sum(1).numpy()
    return raw, msk


def evaluate(folder):
    man = json.load(open(os.path.join(folder, "manifest.json")))
    seqs, n_items = read_sequences(man["data"])
    _, _, test_t, eu = peer.build_split(seqs)
    rows = np.fromfile(os.path.join(folder, "rows.i32"), dtype=np.int32)
    print(f"evaluated users: peer {len(eu)}, genrec {len(rows)}, same rows: {np.array_equal(rows, eu)}")
    model = peer.SASRec(n_items, 64, 50, 2, 1, 0.2)
    load_state(model, os.path.join(folder, "weights"), 64, 2, None)
    raw, msk = peer_ranks(model, [seqs[u][:-1] for u in eu], test_t[eu])
    for name, r in (("unmasked", raw), ("history_masked", msk)):
        hit = (r < 10).astype(np.float64)
        ndcg = np.where(r < 10, 1.0 / np.log2(r + 2.0), 0.0)
        g_hit = np.fromfile(os.path.join(folder, f"{name}.recall@10.f64"), dtype=np.float64)
        g_ndcg = np.fromfile(os.path.join(folder, f"{name}.ndcg@10.f64"), dtype=np.float64)
        print(f"{name}: peer R@10 {hit.mean():.6f} N@10 {ndcg.mean():.6f} | genrec R@10 {g_hit.mean():.6f} N@10 {g_ndcg.mean():.6f} "
              f"(manifest {man['metrics'][name]['recall@10']:.6f} / {man['metrics'][name]['ndcg@10']:.6f}) | "
              f"users whose hit differs: {int((hit != g_hit).sum())}, max |NDCG diff| {np.abs(ndcg - g_ndcg).max():.2e}")


def full(folder):
    man = json.load(open(os.path.join(folder, "manifest.json")))
    args = sys.argv[3:]

    def arg(name, default):
        return type(default)(args[args.index(name) + 1]) if name in args else default
    epochs = arg("--epochs", int(man.get("epochs", 1)))
    p = arg("--dropout", 0.2)
    L, B, d = man["maxLength"], man["batchSize"], 64
    seqs, n_items = read_sequences(man["data"])
    tr, _, test_t, eu = peer.build_split(seqs)
    inp_all, tgt_all = peer.make_training_arrays(tr, L)
    n = len(inp_all)
    orders = np.fromfile(os.path.join(folder, "orders.i32"), dtype=np.int32).astype(np.int64).reshape(-1, n)
    assert epochs <= len(orders), f"the TS half wrote {len(orders)} epoch orders, {epochs} asked"
    torch.manual_seed(man["seed"])
    model = peer.SASRec(n_items, d, L, 2, 1, p)
    load_state(model, os.path.join(folder, "step0"), d, 2, None)
    opt = torch.optim.Adam(model.parameters(), lr=man["learningRate"], betas=(0.9, 0.98), eps=1e-8)
    model.train()
    losses = []
    for e in range(epochs):
        tot, cnt = 0.0, 0
        for b0 in range(0, n, B):
            idx = orders[e][b0:b0 + B]
            tot += float(peer.train_step(model, opt, torch.from_numpy(inp_all[idx]), torch.from_numpy(tgt_all[idx])))
            cnt += 1
        losses.append(tot / cnt)
        print(f"epoch {e + 1}/{epochs} loss {tot / cnt:.5f}", flush=True)
    res = peer.evaluate(model, [seqs[u][:-1] for u in eu], test_t[eu])
    print(json.dumps({"crossover": {"seed": man["seed"], "epochs": epochs, "dropout": p, "epoch_loss": [round(x, 5) for x in losses], "test": res}}))


if __name__ == "__main__":
    {"train": train, "eval": evaluate, "full": full}[sys.argv[1]](sys.argv[2])
