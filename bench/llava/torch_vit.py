"""The bench's fp32 ViT + projector in PyTorch (Debian python3-torch), random weights, for a same-machine reference.

usage: torch_vit.py '{"imageSize":518,"patchSize":14,"width":768,"heads":12,"mlpDim":3072,"blocks":11,
                      "projHidden":4096,"threads":2,"reps":3}'
Prints one JSON line: {"visionMs": [...], "peakRssBytes": N, "torch": version}.
"""
import json
import re
import sys
import time

import torch
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
torch.manual_seed(0)
D, H, M, P = cfg["width"], cfg["heads"], cfg["mlpDim"], cfg["patchSize"]
grid = cfg["imageSize"] // P
T = 1 + grid * grid


def rand(*shape, base=0.0):
    return base + (torch.rand(*shape) * 2 - 1) * 0.02


blocks = [
    {k: rand(*s, base=b) for k, s, b in [
        ("n1w", (D,), 1), ("n1b", (D,), 0), ("qkvw", (3 * D, D), 0), ("qkvb", (3 * D,), 0),
        ("pw", (D, D), 0), ("pb", (D,), 0), ("ls1", (D,), 1), ("n2w", (D,), 1), ("n2b", (D,), 0),
        ("f1w", (M, D), 0), ("f1b", (M,), 0), ("f2w", (D, M), 0), ("f2b", (D,), 0), ("ls2", (D,), 1),
    ]}
    for _ in range(cfg["blocks"])
]
patch_w, patch_b = rand(D, 3, P, P), rand(D)
cls, pos = rand(1, 1, D), rand(1, T, D)
hid = cfg["projHidden"]
p1w, p1b, p2w, p2b = rand(hid, D), rand(hid), rand(hid, hid), rand(hid)


def forward(pixels):
    x = F.conv2d(pixels, patch_w, patch_b, stride=P).flatten(2).transpose(1, 2)
    x = torch.cat([cls, x], 1) + pos
    for b in blocks:
        h = F.layer_norm(x, (D,), b["n1w"], b["n1b"], 1e-6)
        qkv = F.linear(h, b["qkvw"], b["qkvb"]).reshape(1, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-1, -2) / (D // H) ** 0.5, -1) @ v
        x = x + b["ls1"] * F.linear(a.transpose(1, 2).reshape(1, T, D), b["pw"], b["pb"])
        h = F.layer_norm(x, (D,), b["n2w"], b["n2b"], 1e-6)
        x = x + b["ls2"] * F.linear(F.gelu(F.linear(h, b["f1w"], b["f1b"])), b["f2w"], b["f2b"])
    return F.linear(F.gelu(F.linear(x[:, 1:], p1w, p1b)), p2w, p2b)


pixels = torch.rand(1, 3, cfg["imageSize"], cfg["imageSize"])
times = []
with torch.inference_mode():
    for i in range(cfg["reps"] + 1):
        t = time.perf_counter()
        forward(pixels)
        if i > 0:  # run 0 warms up
            times.append((time.perf_counter() - t) * 1000)
with open("/proc/self/status") as f:
    peak = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) * 1024
print(json.dumps({"visionMs": times, "peakRssBytes": peak, "torch": torch.__version__}))
