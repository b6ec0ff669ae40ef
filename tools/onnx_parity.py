#!/usr/bin/env python3
"""ONNX export parity and speed: cyolo's export under ONNX Runtime vs cyolo's own forward, and
Ultralytics' export of the same (formula) weights, on real images.

Measuring instrument (not part of the product or CI):

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/onnx_parity.py [--models yolo26n yolo11n yolov8n]
        [--imgsz 640] [--runs 20] [--cyolo build/cyolo]

Per model (formula weights, `init=formula`, as the shared reference builds them):
  1. `cyolo export model=<m>.yaml init=formula imgsz=...` (static), and once more with dynamic=True;
  2. bus.jpg and zidane.jpg (Ultralytics' assets), letterboxed as Ultralytics' LetterBox does, as a
     batch of 2 in [0, 1] NCHW;
  3. `cyolo dump` on that batch: cyolo predict's raw output (output.npy: [B, 300, 6(+nm)] for end2end
     heads, the decoded [B, 4+nc(+nm), A] otherwise);
  4. ONNX Runtime on cyolo's file (a batch-2 static export, and the dynamic export at 2 sizes) vs 3;
  5. Ultralytics' DetectionModel with the same formula weights, exported by Ultralytics
     (nms=False: the end2end head where there is one, as 8.4.37's default), under ONNX Runtime vs 3;
  6. inference time at batch 1: ONNX Runtime (cyolo's file, Ultralytics' file; intra_op threads =
     os.cpu_count()) and `cyolo benchmark`, medians of --runs.
--sweep: every family and scale (n..x, detect and -seg), cyolo's ONNX vs cyolo's forward only.
Prints one JSON object per model; errors are max |a - b| / max(1, max |b|) ("ordered"; for end2end rows
also "matched" and "sorted_scores", see compare()).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE / "refgen"))


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    return float(np.abs(a - b).max() / max(1.0, np.abs(b).max()))


def compare(a, b, end2end):
    """rel(a, b); for end2end rows also the order-free error: top-k rows whose scores tie (formula weights
    give near-equal scores) may come out in another order, so each row of b inside the top-k (score above
    the k-th by 1e-6) is matched to its nearest row of a (max |diff| over its columns, relative)."""
    out = {"ordered": rel(a, b)}
    if end2end and not isinstance(out["ordered"], str):
        worst = 0.0
        for i in range(b.shape[0]):
            inside = b[i][b[i][:, 4] > b[i][-1, 4] + 1e-6]
            d = np.abs(a[i][None, :, :].astype(np.float64) - inside[:, None, :]).max(-1).min(1)
            worst = max(worst, float(d.max() / max(1.0, np.abs(b).max())) if len(d) else 0.0)
        out["matched"] = worst
        out["sorted_scores"] = rel(np.sort(a[..., 4], -1), np.sort(b[..., 4], -1))
    return out


def images(imgsz):
    import cv2
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils import ASSETS

    out = []
    for name in ("bus.jpg", "zidane.jpg"):
        im = cv2.imread(str(ASSETS / name))
        im = LetterBox((imgsz, imgsz), auto=False, stride=32)(image=im)
        out.append(im[..., ::-1].transpose(2, 0, 1).astype(np.float32) / 255.0)
    return np.ascontiguousarray(np.stack(out))


def cyolo(cy, *args, cwd):
    r = subprocess.run([cy, *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"cyolo {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def ort_session(path, threads):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def median_ms(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t))


def ultralytics_export(name, tmp, imgsz, batch):
    import torch
    import formula as F
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel, SegmentationModel

    cls = SegmentationModel if "-seg" in name else DetectionModel
    model = cls(f"{name}.yaml", nc=80, verbose=False)
    F.apply_formula(model, bias_init=True)
    model.eval()
    pt = Path(tmp) / f"ul_{name}_b{batch}.pt"
    torch.save({"model": model, "train_args": {}}, pt)
    return Path(YOLO(str(pt)).export(format="onnx", imgsz=imgsz, batch=batch, nms=False, simplify=False, verbose=False))


def run_model(name, args, x, tmp):
    cy = str(Path(args.cyolo).resolve())
    d = Path(tmp) / name
    d.mkdir()
    np.save(d / "x.npy", x)
    cyolo(cy, "dump", f"model={name}.yaml", "init=formula", f"input={d / 'x.npy'}", f"out={d}", cwd=d)
    ref = np.load(d / "output.npy")
    res = {"model": name, "imgsz": args.imgsz, "cyolo_output": list(ref.shape)}
    e2e = ref.ndim == 3 and ref.shape[1] <= 300 and ref.shape[2] < 6 + 80
    # a batch-2 static export for the parity, batch 1 for timing, a dynamic one for other shapes
    cyolo(cy, "export", f"model={name}.yaml", "init=formula", f"imgsz={args.imgsz}", "batch=2", cwd=d)
    (d / f"{name}.onnx").rename(d / "b2.onnx")
    cyolo(cy, "export", f"model={name}.yaml", "init=formula", f"imgsz={args.imgsz}", cwd=d)
    (d / f"{name}.onnx").rename(d / "b1.onnx")
    cyolo(cy, "export", f"model={name}.yaml", "init=formula", f"imgsz={args.imgsz}", "dynamic=True", cwd=d)
    (d / f"{name}.onnx").rename(d / "dyn.onnx")
    threads = os.cpu_count()
    s2 = ort_session(d / "b2.onnx", threads)
    res["onnx_vs_cyolo"] = compare(s2.run(None, {"images": x})[0], ref, e2e)
    sd = ort_session(d / "dyn.onnx", threads)
    res["dynamic_vs_cyolo"] = compare(sd.run(None, {"images": x})[0], ref, e2e)
    # another shape and batch through the dynamic file
    y = np.ascontiguousarray(x[:1, :, 64 : 64 + 320, :480])
    np.save(d / "y.npy", y)
    e = d / "other"
    e.mkdir()
    cyolo(cy, "dump", f"model={name}.yaml", "init=formula", f"input={d / 'y.npy'}", f"out={e}", cwd=d)
    res["dynamic_1x320x480_vs_cyolo"] = compare(sd.run(None, {"images": y})[0], np.load(e / "output.npy"), e2e)
    ul2 = ultralytics_export(name, tmp, args.imgsz, 2)
    ul_out = ort_session(ul2, threads).run(None, {"images": x})[0]
    res["ultralytics_onnx_output"] = list(ul_out.shape)
    res["ultralytics_onnx_vs_cyolo"] = compare(ul_out, ref, e2e)
    ul1 = ultralytics_export(name, tmp, args.imgsz, 1)
    x1 = np.ascontiguousarray(x[:1])
    s_c, s_u = ort_session(d / "b1.onnx", threads), ort_session(ul1, threads)
    res["ort_ms_cyolo_onnx"] = median_ms(lambda: s_c.run(None, {"images": x1}), args.runs)
    res["ort_ms_ultralytics_onnx"] = median_ms(lambda: s_u.run(None, {"images": x1}), args.runs)
    out = cyolo(cy, "benchmark", f"model={name}.yaml", f"imgsz={args.imgsz}", f"runs={args.runs}", cwd=d)
    res["cyolo_forward_ms"] = json.loads(out.strip().splitlines()[-1])["median_ms"]
    res["file_mb_cyolo"] = round((d / "b1.onnx").stat().st_size / 1e6, 2)
    res["file_mb_ultralytics"] = round(ul1.stat().st_size / 1e6, 2)
    return res


def sweep(args, x):
    """Every family and scale (detect and -seg): cyolo's export (static and dynamic) under ONNX Runtime vs
    cyolo's forward at a small size; segment models also compare output1 with the prototypes."""
    cy = str(Path(args.cyolo).resolve())
    x = np.ascontiguousarray(x[:, :, : args.imgsz, : args.imgsz])
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        np.save(d / "x.npy", x)
        for fam in ("yolo26", "yolo11", "yolov8"):
            for task in ("", "-seg"):
                for sc in "nsmlx":
                    name = f"{fam}{sc}{task}"
                    cyolo(cy, "dump", f"model={name}.yaml", "init=formula", f"input={d / 'x.npy'}", f"out={d}", cwd=d)
                    ref = np.load(d / "output.npy")
                    e2e = ref.ndim == 3 and ref.shape[1] <= 300 and ref.shape[2] < 6 + 80 + 33
                    row = {"model": name, "imgsz": args.imgsz, "output0": list(ref.shape)}
                    for dyn in ("False", "True"):
                        cyolo(cy, "export", f"model={name}.yaml", "init=formula", f"imgsz={args.imgsz}", "batch=2",
                              f"dynamic={dyn}", cwd=d)
                        outs = ort_session(d / f"{name}.onnx", os.cpu_count()).run(None, {"images": x})
                        c = compare(outs[0], ref, e2e)
                        key = "dynamic" if dyn == "True" else "static"
                        row[key] = c.get("matched", c["ordered"])
                        if task:
                            row[key + "_output1"] = rel(outs[1], np.load(d / "proto.npy"))
                    print(json.dumps(row), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["yolo26n", "yolo11n", "yolov8n"])
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cyolo", default=str(REPO / "build" / "cyolo"))
    ap.add_argument("--sweep", action="store_true", help="every family and scale, ORT vs cyolo only (use --imgsz 160)")
    args = ap.parse_args()
    x = images(args.imgsz)
    if args.sweep:
        return sweep(args, x)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            print(json.dumps(run_model(name, args, x, tmp)), flush=True)


if __name__ == "__main__":
    main()
