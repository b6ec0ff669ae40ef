#!/usr/bin/env python3
"""Checks a cyolo `format=ultralytics` checkpoint with Ultralytics itself (measurement only: the
product and CI never run Python).

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/check_ultralytics_pt.py EXPORT.pt --source SRC.pt \\
        [--data /abs/dataset.yaml] [--imgsz 96] [--batch 16] [--cyolo build/cyolo] \\
        [--reference REAL_ULTRALYTICS.pt] [--skip-val] [--skip-export]

EXPORT.pt is `cyolo export model=SRC.pt format=ultralytics`'s output, SRC.pt the cyolo checkpoint
it was made from. The steps:
  1. YOLO(EXPORT.pt) loads it: task, classes, Ultralytics' model summary.
  2. (--reference) its module tree against a real Ultralytics checkpoint of the same architecture
     (e.g. one its trainer saved): class, attribute keys and non-tensor values per module path,
     tensor dtypes/shapes and Parameter flags, shared modules; differences listed.
  3. raw eval outputs on real photos (Ultralytics' bus.jpg and zidane.jpg, letterboxed to imgsz):
     Ultralytics' forward of EXPORT.pt against `cyolo dump raw=1` of EXPORT.pt (the same fp16
     weights: fp32 arithmetic apart) and of SRC.pt (cyolo's fp32 weights: fp16 tolerance); per
     head branch the raw boxes and class logits, the decoded prediction, a segment model's protos.
     Errors are max|a - b| / max(1, max|b|).
  4. `yolo val` (YOLO(EXPORT.pt).val) against `cyolo val` of SRC.pt and of EXPORT.pt on --data
     (max |difference| of P, R, mAP50, mAP50-95); an end-to-end head is validated by Ultralytics
     with nms=False, the one-to-one top-k cyolo val runs (8.4.190's default, nms=None, runs the
     one-to-many head with NMS: reported too).
  5. `yolo export format=onnx` and `format=torchscript` of EXPORT.pt succeed; the ONNX file under
     ONNX Runtime gives Ultralytics' torch output.
Prints a JSON summary last.

    ... tools/check_ultralytics_pt.py --sweep [--scales nsmlx]

instead compares, for every model YAML in cfg/models and scale, the module tree cyolo exports for a
formula-weight model with the one Ultralytics builds from that YAML (through
build/tests/test_export_ultralytics --yaml).
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b))))) if a.size else 0.0


# ---- 2. module trees ----


def flatten(model):
    """{(module path, key): description} for every module of model, and the number of shared modules."""
    import torch

    def desc(v):
        if isinstance(v, torch.nn.Parameter):
            return f"Parameter({v.dtype}, {tuple(v.shape)}, requires_grad={v.requires_grad})"
        if isinstance(v, torch.Tensor):
            return f"Tensor({v.dtype}, {tuple(v.shape)})"
        if isinstance(v, torch.nn.Module):
            return "module " + type(v).__module__ + "." + type(v).__qualname__
        if isinstance(v, dict):
            return type(v).__name__ + "{" + ", ".join(f"{k!r}: {desc(x)}" for k, x in v.items()) + "}"
        if isinstance(v, (list, tuple, set, frozenset)):
            return type(v).__name__ + "[" + ", ".join(desc(x) for x in v) + "]"
        return f"{type(v).__name__}:{v!r}"

    out, seen = collections.OrderedDict(), collections.Counter()

    def walk(m, path):
        out[(path, "__class__")] = type(m).__module__ + "." + type(m).__qualname__
        out[(path, "__keys__")] = list(vars(m))
        for k, v in vars(m).items():
            if k == "_modules":
                for n, c in v.items():
                    if c is None:
                        out[(f"{path}.{n}", "__class__")] = "None"
                        continue
                    seen[id(c)] += 1
                    walk(c, f"{path}.{n}" if path else n)
            elif k in ("_parameters", "_buffers"):
                for n, t in v.items():
                    out[(path, f"{k}.{n}")] = desc(t)
            else:
                out[(path, k)] = desc(v)

    walk(model, "")
    return out, sum(1 for c in seen.values() if c > 1)


def compare_trees(ours, ref):
    a, sa = flatten(ours)
    b, sb = flatten(ref)
    diffs = []
    for k in list(a) + [k for k in b if k not in a]:
        if a.get(k) != b.get(k):
            diffs.append((k, a.get(k), b.get(k)))
    return {"entries": len(a), "reference_entries": len(b), "shared_modules": [sa, sb], "differences": diffs}


# ---- 3. raw outputs ----


def photos(imgsz):
    """bus.jpg and zidane.jpg letterboxed to imgsz x imgsz as a (2, 3, imgsz, imgsz) RGB float batch."""
    import cv2
    import ultralytics
    from ultralytics.data.augment import LetterBox

    assets = Path(ultralytics.__file__).parent / "assets"
    lb = LetterBox(new_shape=(imgsz, imgsz), auto=False)
    ims = [lb(image=cv2.imread(str(assets / n)))[..., ::-1].transpose(2, 0, 1) for n in ("bus.jpg", "zidane.jpg")]
    return np.ascontiguousarray(np.stack(ims)).astype(np.float32) / 255.0


def ultralytics_outputs(model, x):
    """Raw head outputs per branch, the decoded prediction of the inference branch (one-to-one for an
    end-to-end head, as cyolo decodes it) and the protos, from Ultralytics' eval forward."""
    import torch

    with torch.no_grad():
        y, preds = model(torch.from_numpy(x))
        proto = y[1] if isinstance(y, tuple) else None
        branches = preds if "one2one" in preds else {"one2many": preds}
        head = model.model[-1]
        out = {}
        for b, p in branches.items():
            out[f"{b}_boxes"] = p["boxes"].numpy()
            out[f"{b}_scores"] = p["scores"].numpy()
        e2e = "one2one" in branches
        was = head.end2end
        head.end2end = e2e  # an end-to-end decode gives xyxy boxes, as cyolo's does for that branch
        out["decoded"] = head._inference(branches["one2one" if e2e else "one2many"]).numpy()
        head.end2end = was
        if proto is not None:
            out["proto"] = proto.numpy()
    return out


def cyolo_outputs(cyolo, ckpt, x, work):
    d = Path(work) / ("dump_" + Path(ckpt).stem)
    np.save(Path(work) / "x.npy", x)
    run([cyolo, "dump", f"model={ckpt}", f"input={Path(work) / 'x.npy'}", f"out={d}", "raw=1"])
    return {p.stem: np.load(p) for p in d.glob("*.npy")}


# ---- 4. val ----


def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout + r.stderr


def cyolo_val(cyolo, ckpt, data, imgsz, batch, extra=()):
    out = run([cyolo, "val", f"model={ckpt}", f"data={data}", f"imgsz={imgsz}", f"batch={batch}", *extra])
    row = next(line for line in out.splitlines() if re.match(r"^\s+all\s", line))
    v = [float(t) for t in row.split()[3:]]
    keys = ["P(B)", "R(B)", "mAP50(B)", "mAP50-95(B)", "P(M)", "R(M)", "mAP50(M)", "mAP50-95(M)"]
    return dict(zip(keys, v))


def ultralytics_val(path, data, imgsz, batch, **kw):
    from ultralytics import YOLO

    m = YOLO(path).val(data=data, imgsz=imgsz, batch=batch, plots=False, verbose=False, workers=0, **kw)
    r = {"P(B)": m.box.mp, "R(B)": m.box.mr, "mAP50(B)": m.box.map50, "mAP50-95(B)": m.box.map}
    if hasattr(m, "seg"):
        r.update({"P(M)": m.seg.mp, "R(M)": m.seg.mr, "mAP50(M)": m.seg.map50, "mAP50-95(M)": m.seg.map})
    return {k: float(v) for k, v in r.items()}


def max_gap(a, b):
    return max(abs(a[k] - b[k]) for k in a if k in b)


# ---- 5. export ----


def export_on(path, imgsz, work):
    """yolo export format=onnx and torchscript of a copy of path; the ONNX output under ONNX Runtime
    against the torch model's."""
    import onnxruntime as ort
    import torch
    from ultralytics import YOLO

    src = Path(work) / "exp" / Path(path).name
    src.parent.mkdir(exist_ok=True)
    shutil.copy(path, src)
    res = {}
    onnx = YOLO(str(src)).export(format="onnx", imgsz=imgsz, verbose=False)
    ts = YOLO(str(src)).export(format="torchscript", imgsz=imgsz, verbose=False)
    res["onnx"], res["torchscript"] = str(onnx), str(ts)
    res["onnx_exists"], res["torchscript_exists"] = Path(onnx).is_file(), Path(ts).is_file()
    x = photos(imgsz)[:1]
    sess = ort.InferenceSession(str(onnx), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    m = YOLO(str(src)).model.float().eval()
    for mm in m.modules():  # as the exporter sets the head for a plain ONNX export
        if hasattr(mm, "export") and hasattr(mm, "nc"):
            mm.export, mm.format = True, "onnx"
    with torch.no_grad():
        y = m(torch.from_numpy(x))
    y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
    res["onnx_vs_torch"] = rel_err(got, y) if got.shape == y.shape else f"shapes {got.shape} vs {y.shape}"
    return res


def sweep(scales, tester):
    """Every model YAML of cfg/models at the given scales: the module tree cyolo exports for its
    formula-weight model against the one Ultralytics builds from the same YAML (ul_saved_model's
    trainer state); tensor values aside, every difference is listed. cyolo builds a YOLOv8/11
    detector's SPPF cv1 without activation (Ultralytics 8.4.37's rule), 8.4.190 with SiLU: those
    module paths are reported apart."""
    import torch
    from ultralytics.nn.tasks import DetectionModel, SegmentationModel

    sys.path.insert(0, str(REPO / "tools" / "refgen"))
    from ul_saved_model import saved_like

    work = tempfile.mkdtemp(prefix="check_ul_sweep_")
    rows = []
    for y in sorted((REPO / "cfg" / "models").glob("*/*.yaml")):
        for sc in scales:
            name = y.stem.replace("yolov8", f"yolov8{sc}").replace("yolo11", f"yolo11{sc}").replace("yolo26", f"yolo26{sc}")
            out = Path(work) / f"{name}_ultralytics.pt"
            run([tester, "--yaml", f"{name}.yaml", "3", out])
            seg = name.endswith("-seg")
            cwd = os.getcwd()
            os.chdir(work)
            try:
                ref = (SegmentationModel if seg else DetectionModel)(f"{name}.yaml", nc=3, verbose=False)
                ref.names = {i: f"class{i}" for i in range(3)}
                ref = saved_like(ref, 640)["ema"]
            finally:
                os.chdir(cwd)
            ours = torch.load(out, map_location="cpu", weights_only=False)["ema"]
            t = compare_trees(ours, ref)
            sppf = [d for d in t["differences"] if ".cv1.act" in d[0][0] and d[0][0].startswith("model.")]
            other = [d for d in t["differences"] if d not in sppf and d[0][1] != "args"]
            rows.append({"model": name, "entries": t["entries"], "shared": t["shared_modules"],
                         "sppf_cv1_act_only": len(sppf), "differences": [str(d)[:300] for d in other]})
            print(f"    {name:18s} {t['entries']:6d} entries, shared modules {t['shared_modules']}, "
                  f"{len(other)} differences{' (SPPF cv1 act apart)' if sppf else ''}", flush=True)
            for d in other[:5]:
                print("       ", str(d)[:300])
            out.unlink()
            Path(str(out) + ".cyolo.pt").unlink()
    shutil.rmtree(work, ignore_errors=True)
    return rows


def main():
    if "--sweep" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--sweep", action="store_true")
        ap.add_argument("--scales", default="nsmlx")
        ap.add_argument("--tester", default=str(REPO / "build" / "tests" / "test_export_ultralytics"))
        a = ap.parse_args()
        rows = sweep(a.scales, a.tester)
        print(json.dumps(rows))
        sys.exit(1 if any(r["differences"] for r in rows) else 0)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("export")
    ap.add_argument("--source", required=True)
    ap.add_argument("--data", default=str(REPO / "datasets" / "synth" / "synth.yaml"))
    ap.add_argument("--imgsz", type=int, default=96)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--cyolo", default=str(REPO / "build" / "cyolo"))
    ap.add_argument("--reference")
    ap.add_argument("--skip-val", action="store_true")
    ap.add_argument("--skip-export", action="store_true")
    args = ap.parse_args()
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    summary = {"export": args.export, "source": args.source}
    work = tempfile.mkdtemp(prefix="check_ul_")
    # 1. load
    y = YOLO(args.export)
    assert isinstance(y.model, DetectionModel), type(y.model)
    summary["load"] = {"task": y.task, "class": type(y.model).__name__, "names": y.model.names,
                       "modules": len(list(y.model.modules())), "parameters": sum(p.numel() for p in y.model.parameters()),
                       "end2end_head": hasattr(y.model.model[-1], "one2one_cv2")}
    print("1. YOLO() loads it:", json.dumps(summary["load"]))
    # 2. tree
    if args.reference:
        import torch

        ck = torch.load(args.reference, map_location="cpu", weights_only=False)
        ours = torch.load(args.export, map_location="cpu", weights_only=False)
        t = compare_trees(ours["ema"], ck.get("ema") or ck.get("model"))
        summary["tree"] = {**t, "differences": [f"{k[0] or '(root)'} {k[1]}: ours {a} / reference {b}"[:300]
                                                 for k, a, b in t["differences"]]}
        print(f"2. module tree vs {args.reference}: {t['entries']} entries ({t['reference_entries']}), shared modules "
              f"{t['shared_modules']}, {len(t['differences'])} differences")
        for d in summary["tree"]["differences"][:20]:
            print("   ", d)
    # 3. raw outputs
    x = photos(args.imgsz)
    ul = ultralytics_outputs(YOLO(args.export).model.float().eval(), x)
    same = cyolo_outputs(args.cyolo, args.export, x, work)
    src = cyolo_outputs(args.cyolo, args.source, x, work)
    out = {}
    for k, v in ul.items():
        out[k] = {"vs cyolo(export)": rel_err(v, same.get(k, np.zeros(0))),
                  "vs cyolo(source fp32)": rel_err(v, src.get(k, np.zeros(0))), "shape": list(v.shape)}
    summary["outputs"] = out
    print(f"3. raw eval outputs on bus.jpg + zidane.jpg at {args.imgsz}:")
    for k, v in out.items():
        print(f"    {k:20s} {str(v['shape']):18s} vs cyolo(export) {v['vs cyolo(export)']:.2e}   "
              f"vs cyolo(source, fp32 weights) {v['vs cyolo(source fp32)']:.2e}")
    # 4. val
    if not args.skip_val:
        # cyolo val runs an end-to-end head's one-to-one top-k: Ultralytics 8.4.190 does so with nms=False
        # (its default, nms=None, is the one-to-many head + NMS: reported, with no cyolo counterpart)
        e2e = summary["load"]["end2end_head"]
        label, ulkw = ("nms=False", {"nms": False}) if e2e else ("default", {})
        u = ultralytics_val(args.export, args.data, args.imgsz, args.batch, **ulkw)
        cs = cyolo_val(args.cyolo, args.source, args.data, args.imgsz, args.batch)
        ce = cyolo_val(args.cyolo, args.export, args.data, args.imgsz, args.batch)
        r = {"ultralytics": label, "yolo val export": u, "cyolo val source": cs, "cyolo val export": ce,
             "max gap vs source": max_gap(u, cs), "max gap vs export": max_gap(u, ce)}
        if e2e:
            r["yolo val export, nms=None (one-to-many + NMS)"] = ultralytics_val(args.export, args.data, args.imgsz,
                                                                                 args.batch)
        summary["val"] = r
        print(f"4. yolo val ({label}) vs cyolo val:")
        for n, d in r.items():
            if isinstance(d, dict):
                print(f"    {n:22s} " + "  ".join(f"{k} {v:.4f}" for k, v in d.items()))
        print(f"    max gap: {r['max gap vs source']:.4f} (cyolo val of the source), "
              f"{r['max gap vs export']:.4f} (cyolo val of the export)")
    # 5. export
    if not args.skip_export:
        summary["export_on"] = export_on(args.export, args.imgsz, work)
        print("5. yolo export:", json.dumps(summary["export_on"]))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
