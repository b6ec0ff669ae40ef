#!/usr/bin/env python3
"""Dump the PyPI Ultralytics' eval forward of yolo26n-seg and yolov8n-seg (formula weights) as test fixtures.

Measuring instrument, run by hand; its outputs are committed under tests/fixtures/seg/.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_seg.py

For segmentation the PyPI release is the reference (there is no shared 8.4.37 dump). Per model
(nc=80): SegmentationModel(yaml), the formula weights of tools/refgen/formula.py (every float
state_dict entry; BN entries by their rule, the DFL conv keeps arange(reg_max)), Detect.bias_init(),
model.eval(), and for YOLO26 head.end2end = True (what Ultralytics' predictor and validator set for
an end2end model; 8.4.190 builds with it off); input (2, 3, 64, 96) = formula 'input'. Saved as
float32 .npy:
  <m>_decoded.npy  Detect._inference of the inference branch (one2one for yolo26n-seg):
                   (B, 4+nc+nm, A): boxes (xyxy for end2end, else xywh, input pixels), sigmoid
                   scores, raw mask coefficients
  <m>_coef.npy     that branch's raw mask coefficients (B, nm, A)
  <m>_proto.npy    Proto's prototype masks (B, nm, H/4, W/4)
  <m>_final.npy    the eval output y of ((y, proto), preds): end2end (B, min(300, A), 6+nm) top-k
                   rows (x1, y1, x2, y2, score, class, coefficients); else (B, 4+nc+nm, A)
and a (1, 3, 96, 64) input's decoded output (<m>_decoded_1x3x96x64.npy), plus
tests/fixtures/seg/forward_manifest.json (versions, shapes, max|v|, float64 rerun difference).
"""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "tests" / "fixtures" / "seg"
sys.path.insert(0, str(HERE))
os.environ.setdefault("YOLO_OFFLINE", "1")

MODELS = ["yolo26n-seg", "yolov8n-seg"]


def build(name, F, dtype=None):
    from ultralytics.nn.tasks import SegmentationModel

    model = SegmentationModel(f"{name}.yaml", nc=80, verbose=False)
    info = F.apply_formula(model, bias_init=True)
    model.eval()
    head = model.model[-1]
    if getattr(head, "one2one_cv2", None) is not None:
        head.end2end = True
    if dtype is not None:
        model = model.to(dtype)
    return model, info


def forward(model, x):
    import torch

    with torch.no_grad():
        (y, proto), preds = model(x)
        branch = preds["one2one"] if "one2one" in preds else preds
        dec = model.model[-1]._inference(branch)
    return {"decoded": dec, "coef": branch["mask_coefficient"], "proto": proto, "final": y}


def main():
    import numpy as np
    import torch
    import ultralytics

    import formula as F

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    man = {"generator": "tools/refgen/dump_seg.py", "ultralytics": ultralytics.__version__,
           "torch": str(torch.__version__), "input": [2, 3, 64, 96], "files": {}}
    for name in MODELS:
        model, info = build(name, F)
        man[name] = {"formula": info}
        x = torch.from_numpy(F.make_input((2, 3, 64, 96)))
        got = forward(model, x)
        m64, _ = build(name, F, torch.float64)
        ref64 = forward(m64, x.double())
        for k, v in got.items():
            a = v.float().numpy()
            fn = f"{name}_{k}.npy"
            np.save(OUT / fn, a)
            d64 = float((v.double() - ref64[k]).abs().max())
            man["files"][fn] = {"shape": list(a.shape), "max_abs": float(np.abs(a).max()), "f32_vs_f64": d64}
            print(f"{fn:32s} {list(a.shape)} max|v| {np.abs(a).max():.4g} f32-f64 {d64:.3g}", flush=True)
        xb = torch.from_numpy(F.make_input((1, 3, 96, 64)))
        a = forward(model, xb)["decoded"].float().numpy()
        fn = f"{name}_decoded_1x3x96x64.npy"
        np.save(OUT / fn, a)
        man["files"][fn] = {"shape": list(a.shape), "max_abs": float(np.abs(a).max())}
    (OUT / "forward_manifest.json").write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()
