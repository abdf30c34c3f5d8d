"""One training step of the shapes autoencoder and contrastive encoder:
replearn (Rust, tch) against PyTorch, on the same libtorch from .venv.

Usage: .venv/bin/python scripts/bench_train_step.py [--batch 256] [--steps 10]
Builds and runs examples/bench_train_step.rs, runs the same steps in PyTorch
(same architecture, loss, Adam 2e-4, inputs of the same shape), and prints a
markdown table of median milliseconds per step and the ratio.
"""
import argparse
import os
import subprocess
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]


def encoder(normalize):
    chans = [3, 32, 64, 128, 256, 512, 128]
    layers = []
    for i, o in zip(chans, chans[1:]):
        layers += [nn.Conv2d(i, o, 4, 2, 1), nn.ReLU()]
    layers += [nn.Flatten(), nn.Linear(128, 128)]
    net = nn.Sequential(*layers)
    return (lambda x: F.normalize(net(x), dim=1)) if normalize else net, net


def decoder():
    chans = [128, 512, 256, 128, 64, 32, 3]
    layers = [nn.Linear(128, 128), nn.ReLU(), nn.Unflatten(1, (128, 1, 1))]
    for k, (i, o) in enumerate(zip(chans, chans[1:])):
        layers.append(nn.ConvTranspose2d(i, o, 4, 2, 1))
        if k < len(chans) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def median_ms(step, steps, cuda):
    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        if cuda:
            torch.cuda.synchronize()
        t = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)[len(times) // 2]


def pytorch(batch, steps):
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    x = torch.rand(batch, 3, 64, 64, device=dev) * 2 - 1
    x2 = torch.rand(batch, 3, 64, 64, device=dev) * 2 - 1
    enc, enc_net = encoder(False)
    dec = decoder()
    enc_net.to(dev), dec.to(dev)
    opt = torch.optim.Adam(list(enc_net.parameters()) + list(dec.parameters()), lr=2e-4)

    def ae_step():
        opt.zero_grad()
        F.mse_loss(dec(enc(x)), x).backward()
        opt.step()

    enc2, net2 = encoder(True)
    net2.to(dev)
    opt2 = torch.optim.Adam(net2.parameters(), lr=2e-4)

    def con_step():
        opt2.zero_grad()
        logits = enc2(x) @ enc2(x2).T / 0.07
        F.cross_entropy(logits, torch.arange(batch, device=dev)).backward()
        opt2.step()

    return median_ms(ae_step, steps, dev == "cuda"), median_ms(con_step, steps, dev == "cuda"), dev


def rust(batch, steps):
    # The same build settings as the Makefile, so the shared build cache is used.
    cache = Path(os.environ.get("REPLEARN_CACHE", Path.home() / ".cache" / "replearn"))
    venv = ROOT / ".venv"
    env = dict(os.environ, LIBTORCH_USE_PYTORCH="1", VIRTUAL_ENV=str(venv),
               PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    env.setdefault("CARGO_TARGET_DIR", str(cache / "target"))
    # REPLEARN_BENCH_BIN names a pre-built example binary (a machine with a GPU but no Rust).
    prebuilt = os.environ.get("REPLEARN_BENCH_BIN")
    command = [prebuilt] if prebuilt else ["cargo", "run", "--release", "-q", "--example", "bench_train_step", "--"]
    done = subprocess.run(
        command + [str(batch), str(steps)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"building or running examples/bench_train_step.rs failed:\n{done.stderr}")
    out = done.stdout
    values = dict(line.split(" ", 1) for line in out.strip().splitlines())
    return float(values["autoencoder"]), float(values["contrastive"]), values["device"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    r_ae, r_con, r_dev = rust(args.batch, args.steps)
    p_ae, p_con, p_dev = pytorch(args.batch, args.steps)
    print(f"| one training step, batch {args.batch} ({r_dev}; torch {torch.__version__}, {torch.get_num_threads()} threads) | replearn ms | PyTorch ms | replearn / PyTorch |")
    print("|---|---|---|---|")
    for name, r, p in [("shapes autoencoder (MSE)", r_ae, p_ae), ("contrastive encoder (InfoNCE, 2 views)", r_con, p_con)]:
        print(f"| {name} | {r:.1f} | {p:.1f} | {r / p:.2f} |")


if __name__ == "__main__":
    main()
