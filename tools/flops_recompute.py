#!/usr/bin/env python3
"""Recompute Ultralytics' reported GFLOPs without thop, from module shapes only.

Measuring instrument, not product code. Implements the rule written down in
tools/FLOPS_RULE.md: walk the built DetectionModel, give every top-level layer
its input spatial size for a 32x32 probe image, charge each Conv2d, BatchNorm2d,
DFL conv and attention matmul its multiply-accumulate count, then
GFLOPs(640) = 2 * MACs(32x32) / 1e9 * (640/32) * (640/32).

No forward pass and no hooks are used: sizes are propagated from the yaml
'from' graph and the conv strides. Usage (needs the ultralytics venv):

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/flops_recompute.py yolo26n.yaml ...
"""

import os
import sys

os.environ.setdefault("YOLO_OFFLINE", "1")


def conv_out(hw, conv):
    """Spatial output size of an nn.Conv2d for input size hw=(H, W)."""
    (h, w) = hw
    kh, kw = conv.kernel_size
    sh, sw = conv.stride
    ph, pw = conv.padding
    dh, dw = conv.dilation
    return ((h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)


def conv_macs(conv, hw_in):
    """thop rule for Conv2d: out_elems * (Cin/groups) * kh*kw; the bias is NOT counted."""
    ho, wo = conv_out(hw_in, conv)
    cout, cin_g, kh, kw = conv.weight.shape
    return cout * ho * wo * cin_g * kh * kw, (ho, wo)


def bn_macs(bn, numel):
    """thop rule for an affine BatchNorm2d: 2*numel, doubled for affine -> 4*numel."""
    return (4 if bn.affine else 2) * numel


def layer_macs(layer, hw_in, batch=1, matmul=False):
    """MACs of one non-head layer whose input is hw_in (all inner convs are fed at hw_in,
    except that a Conv block's BN is fed at its conv's output size)."""
    import torch.nn as nn
    from ultralytics.nn.modules.block import Attention

    total = 0
    convs = {}  # name -> output hw, to size the BN that follows
    for name, m in layer.named_modules():
        if isinstance(m, nn.Conv2d):
            macs, hw = conv_macs(m, hw_in)
            total += batch * macs
            convs[name] = (m.out_channels, hw)
        elif matmul and isinstance(m, Attention):
            n = hw_in[0] * hw_in[1]
            # (q^T @ k): B*h*N*N outputs, kd long; (v @ attn^T): B*h*hd*N outputs, N long
            total += batch * m.num_heads * n * n * (m.key_dim + m.head_dim)
    for name, m in layer.named_modules():
        if isinstance(m, nn.BatchNorm2d):
            sib = name.rsplit(".", 1)[0] + ".conv" if "." in name else "conv"
            c, hw = convs[sib]
            total += batch * bn_macs(m, c * hw[0] * hw[1])
    return total


def head_macs(head, hws, batch=1, matmul=False):
    """MACs of a Detect head fed at level sizes hws; both one2many and one2one branches run in eval."""
    import torch.nn as nn

    total = 0
    for branch in ("cv2", "cv3", "one2one_cv2", "one2one_cv3"):
        mods = getattr(head, branch, None)
        if mods is None:
            continue
        for lvl, seq in enumerate(mods):
            total += layer_macs(seq, hws[lvl], batch, matmul)
    if isinstance(getattr(head, "dfl", None), nn.Module) and hasattr(head.dfl, "conv"):
        a = sum(h * w for h, w in hws)
        # DFL conv sees (B, reg_max, 4, A) and writes (B, 1, 4, A): 4*A outputs, reg_max long
        total += batch * 4 * a * head.dfl.conv.in_channels
    return total


def model_macs(model, hw=(32, 32), batch=1, matmul=False):
    """Total thop MACs of a DetectionModel for a batch x 3 x hw probe."""
    import torch.nn as nn
    from ultralytics.nn.modules.head import Detect

    sizes = []
    total = 0
    for layer in model.model:
        f = layer.f
        if isinstance(layer, Detect):
            total += head_macs(layer, [sizes[j] for j in f], batch, matmul)
            sizes.append(None)
            continue
        src = f if isinstance(f, int) else f[0]
        hw_in = hw if layer.i == 0 else sizes[src if src >= 0 else layer.i + src]
        total += layer_macs(layer, hw_in, batch, matmul)
        if isinstance(layer, nn.Upsample):
            s = int(layer.scale_factor)
            hw_out = (hw_in[0] * s, hw_in[1] * s)
        elif type(layer).__name__ == "Conv":
            hw_out = conv_out(hw_in, layer.conv)
        else:
            hw_out = hw_in
        sizes.append(hw_out)
    return total


def gflops(model, imgsz=640, matmul=None):
    """Ultralytics' get_flops(model, imgsz) recomputed: probe at max(stride,32), scale by area.

    matmul: count the two attention matmuls (thop >= 2.2 does so only when torch's version
    compares >= 1.13 as a release; Debian's '1.13.0a0' does not). None = decide like thop.
    """
    if matmul is None:
        matmul = thop_counts_matmul()
    s = max(int(model.stride.max()), 32)
    return 2 * model_macs(model, (s, s), matmul=matmul) / 1e9 * (imgsz / s) * (imgsz / s)


def gflops_direct(model, imgsz=640, matmul=True):
    """GFLOPs counted directly at imgsz x imgsz (no 32x32 probe), attention matmuls at their true N.

    This is what later Ultralytics (8.4.190, thop stride-proxy extrapolation, exact) reports on a torch
    whose thop counts functional matmuls; it is NOT what 8.4.37 reports.
    """
    return 2 * model_macs(model, (imgsz, imgsz), matmul=matmul) / 1e9


def thop_counts_matmul():
    """Whether the installed thop counts functional matmuls (its _COUNTS_FUNCTIONS switch)."""
    import importlib

    try:
        return bool(getattr(importlib.import_module("thop.profile"), "_COUNTS_FUNCTIONS", False))
    except ImportError:
        return False


def main(argv):
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils.torch_utils import get_flops

    for cfg in argv or ["yolo26n.yaml"]:
        m = DetectionModel(cfg, nc=80, verbose=False)
        mine, theirs = gflops(m), get_flops(m, 640)
        alt = gflops(m, matmul=not thop_counts_matmul())
        print(f"{cfg:16s} recomputed {mine:.6f}  ultralytics {theirs:.6f}  diff {mine - theirs:+.3e}"
              f"  (matmul={not thop_counts_matmul()}: {alt:.6f})")


if __name__ == "__main__":
    main(sys.argv[1:])
