#!/usr/bin/env python3
"""Effect of distill_precision=bf16|int8 on what the student learns from: one
distillation step (`cyolo dump mode=train-step`) on real validation images
of a dataset with a trained teacher, with the fp32, bf16 and int8 teacher;
prints dis_loss of each and the relative L2 change of the teacher weights w
per level against fp32. Not a test.

  bench/distill_precision_effect.py --teacher runs/distill_gain/teacher/weights/best.pt \
      [--data datasets/synth] [--imgsz 160] [--batch 8]
Needs numpy and Pillow (any venv); runs build/cyolo."""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--data", default="datasets/synth")
    ap.add_argument("--imgsz", type=int, default=160)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    names = sorted(os.listdir(os.path.join(a.data, "images", "val")))[: a.batch]
    x = np.zeros((len(names), 3, a.imgsz, a.imgsz), np.float32)
    rows = []
    for i, n in enumerate(names):  # square images: a plain resize is the letterbox
        im = Image.open(os.path.join(a.data, "images", "val", n)).convert("RGB").resize((a.imgsz, a.imgsz))
        x[i] = np.asarray(im, np.float32).transpose(2, 0, 1) / 255.0
        with open(os.path.join(a.data, "labels", "val", os.path.splitext(n)[0] + ".txt")) as f:
            for line in f:
                v = line.split()
                if len(v) == 5:
                    rows.append([i, int(v[0])] + [float(t) for t in v[1:]])
    out = {}
    with tempfile.TemporaryDirectory() as t:
        np.save(os.path.join(t, "x.npy"), x)
        with open(os.path.join(t, "targets.json"), "w") as f:
            json.dump({"columns": ["batch_idx", "cls", "cx", "cy", "w", "h"], "rows": rows}, f)
        for prec in ("fp32", "bf16", "int8"):
            d = os.path.join(t, prec)
            subprocess.run(["build/cyolo", "dump", "model=yolo26n.yaml", "mode=train-step", f"input={t}/x.npy",
                            f"targets={t}/targets.json", f"distill_model={a.teacher}", f"distill_precision={prec}",
                            f"nc={6}", f"out={d}"], check=True, stdout=subprocess.DEVNULL)
            out[prec] = {"dis": float(np.load(os.path.join(d, "dis_loss.npy"))[0]),
                         "w": [np.load(os.path.join(d, f"teacher_w_{l}.npy")) for l in range(3)]}
    f = out["fp32"]
    print(f"{len(names)} images at {a.imgsz}: dis_loss fp32 {f['dis']:.6g}")
    for prec in ("bf16", "int8"):
        b = out[prec]
        print(f"  {prec}: dis_loss {b['dis']:.6g} (rel change {abs(b['dis'] - f['dis']) / f['dis']:.2e}); teacher w rel L2 "
              "change per level " + ", ".join(f"{np.linalg.norm(b['w'][l] - f['w'][l]) / np.linalg.norm(f['w'][l]):.2e}"
                                             for l in range(3)))


if __name__ == "__main__":
    main()
