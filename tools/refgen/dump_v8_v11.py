#!/usr/bin/env python3
"""Dump Ultralytics reference tensors for yolov8n and yolo11n (formula weights) as test fixtures.

Measuring instrument, run by hand; its outputs are committed under tests/fixtures/ref/.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_v8_v11.py

What it does (spec: /work/shared/reference/manifest.json, formula_weights):
  1. Re-executes itself so that libblas.so.3 is Debian's netlib BLAS, the BLAS the
     shared yolo26 reference was dumped with (Debian's torch calls whatever
     libblas.so.3 resolves to; OpenBLAS gives a different float32 summation order).
  2. Checks the formula implementation against manifest formula_selfcheck and against
     the yolo26n reference (c2_n_eval_layer*.npy, c2_n_eval_decoded_o2o.npy,
     c2_n_eval_final.npy); stops if any differs by more than 1e-5.
  3. For yolov8n and yolo11n (nc=80): formula weights, head bias_init(), DFL conv left
     at arange(16), model.eval(); input (2,3,128,160) = formula 'input'. Saves chosen
     layer outputs, the raw box-branch output (DFL input), the decoded eval output
     [B, 4+nc, A] (boxes are xywh in input pixels for these non-end2end heads, then
     sigmoid class scores), and the decoded output for a (1,3,96,64) input.
  4. Writes tests/fixtures/ref/v8_v11_manifest.json (shapes, meaning, max|v|,
     stats, tolerance reruns: 1 thread, float64, OpenBLAS).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

NETLIB_DIR = "/usr/lib/x86_64-linux-gnu/blas"
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("CYOLO_SHARED_REF", REPO.parent / "shared" / "reference"))
OUT = REPO / "tests" / "fixtures" / "ref"

# Per model: layer indices to store (pure data movement such as Upsample/Concat is left out).
PLAN = {
    "yolov8n": [0, 2, 4, 6, 8, 9, 12, 15, 18, 21],
    "yolo11n": [0, 2, 4, 6, 8, 9, 10, 13, 16, 19, 22],
}
SHAPE_A = (2, 3, 128, 160)
SHAPE_B = (1, 3, 96, 64)


def reexec_with_blas(kind):
    """Make sure libblas.so.3 resolves as wanted before torch is imported."""
    want = NETLIB_DIR if kind == "netlib" else ""
    if os.environ.get("CYOLO_BLAS_SET") == kind:
        return
    env = dict(os.environ, CYOLO_BLAS_SET=kind, YOLO_OFFLINE="1")
    paths = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p and p != NETLIB_DIR]
    if want and Path(want, "libblas.so.3").exists():
        paths.insert(0, want)
    env["LD_LIBRARY_PATH"] = ":".join(paths)
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def loaded_blas():
    with open("/proc/self/maps") as f:
        libs = {ln.split()[-1] for ln in f if "blas" in ln.lower() and ln.split()[-1].startswith("/")}
    return sorted(os.path.realpath(p) for p in libs)


def build(name, F):
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(f"{name}.yaml", nc=80, verbose=False)
    info = F.apply_formula(model, bias_init=True)
    model.eval()
    head = model.model[-1]
    if hasattr(head.dfl, "conv"):
        import torch

        assert torch.equal(head.dfl.conv.weight.view(-1), torch.arange(head.reg_max, dtype=torch.float32))
    return model, info


def forward(model, x, layers):
    """Eval forward; returns {key: np.float32 array} with layer outputs, raw head outputs and decoded output."""
    import torch

    outs = {}
    hooks = [
        model.model[i].register_forward_hook(lambda m, a, o, i=i: outs.__setitem__(i, o.detach().clone()))
        for i in layers
    ]
    try:
        with torch.no_grad():
            y, preds = model(x)
    finally:
        for h in hooks:
            h.remove()
    res = {f"layer{i:02d}": outs[i].float().numpy() for i in layers}
    if isinstance(preds, dict) and "one2one" in preds:
        res["raw_o2o_boxes"] = preds["one2one"]["boxes"].float().numpy()
        res["raw_o2o_scores"] = preds["one2one"]["scores"].float().numpy()
        with torch.no_grad():
            res["decoded_o2o"] = model.model[-1]._inference(preds["one2one"]).float().numpy()
    else:
        res["raw_boxes"] = preds["boxes"].float().numpy()
        res["raw_scores"] = preds["scores"].float().numpy()
    res["final"] = y.float().numpy()
    return res


def maxabs(a, b):
    import numpy as np

    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


def verify_yolo26n(F, tol=1e-5):
    import numpy as np
    import torch

    model, info = build("yolo26n", F)
    x = torch.from_numpy(F.make_input(SHAPE_A))
    layers = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 16, 17, 19, 20, 22]
    got = forward(model, x, layers)
    pairs = {f"c2_n_eval_layer{i:02d}.npy": got[f"layer{i:02d}"] for i in layers}
    pairs["c2_n_eval_decoded_o2o.npy"] = got["decoded_o2o"]
    pairs["c2_n_eval_final.npy"] = got["final"]
    pairs["c2_n_eval_raw_one2one_boxes.npy"] = got["raw_o2o_boxes"]
    pairs["c2_n_eval_raw_one2one_scores.npy"] = got["raw_o2o_scores"]
    report, bad = {}, []
    for fname, arr in pairs.items():
        ref = np.load(SHARED / fname)
        report[fname] = d = maxabs(arr, ref)
        if d > tol * max(1.0, float(np.abs(ref).max())):  # 1e-5, relative for values above 1 (pixels)
            bad.append(fname)
    worst = max(report.values())
    print(f"yolo26n vs shared reference: worst max|diff| = {worst:.3g}", flush=True)
    assert not bad, {k: report[k] for k in bad}
    return {"max_abs_diff": report, "formula_apply": info}


MEANING = {
    "raw_boxes": "raw eval-mode box branch output preds['boxes'] (B, 4*reg_max=64, A): DFL logits, per anchor the "
    "64 rows are side-major (l,t,r,b) x 16 bins; anchors P3 then P4 then P5, row-major within a level",
    "raw_scores": "raw eval-mode class branch output preds['scores'] (B, nc, A): logits",
    "final": "eval output y of (y, preds) = model(x): (B, 4+nc, A); rows 0-3 = box centre x, centre y, width, "
    "height in input pixels (DFL softmax expectation -> ltrb -> xywh, times stride), rows 4.. = sigmoid class "
    "scores; anchors P3, P4, P5, row-major within a level",
}


def save_npy(path, arr):
    import numpy as np

    arr = np.ascontiguousarray(arr, dtype="<f4")
    np.save(path, arr, allow_pickle=False)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00", path  # format v1.0


def dump_model(name, F, out, tolerance=True, openblas=None):
    import numpy as np
    import torch

    model, info = build(name, F)
    sd = model.state_dict()
    keys = list(sd.keys())
    layers = PLAN[name]
    xa = torch.from_numpy(F.make_input(SHAPE_A))
    xb = torch.from_numpy(F.make_input(SHAPE_B))
    ra = forward(model, xa, layers)
    rb = forward(model, xb, [])
    arrays = {k: v for k, v in ra.items() if k != "raw_scores"}  # scores = logit of final rows 4..; saves space
    arrays["final_1x3x96x64"] = rb["final"]

    reruns = {}
    if tolerance:
        torch.set_num_threads(1)
        r1 = forward(model, xa, layers)
        r1b = forward(model, xb, [])
        torch.set_num_threads(2)
        r1["final_1x3x96x64"] = r1b["final"]
        m64 = model.double()
        r64 = forward(m64, xa.double(), layers)
        r64["final_1x3x96x64"] = forward(m64, xb.double(), [])["final"]
        model.float()
        reruns = {"rerun_1thread": r1, "vs_fp64": r64}
        if openblas:
            reruns["openblas"] = openblas

    files = []
    for key, arr in arrays.items():
        fname = f"{name}_{key}.npy"
        save_npy(out / fname, arr)
        if key.startswith("layer"):
            i = int(key[5:])
            mod = model.model[i]
            meaning = f"{name} eval-mode output of layer {i} ({mod.type}, from {mod.f})"
            produced = "forward hook on model.model[i]"
        elif key == "final_1x3x96x64":
            meaning = f"{name} " + MEANING["final"] + " -- for the (1,3,96,64) formula input (A = 12*8+6*4+3*2 = 126)"
            produced = "y, _ = model(x) in eval mode"
        else:
            meaning = f"{name} " + MEANING[key]
            produced = "y, _ = model(x) in eval mode" if key == "final" else "second element of model(x) in eval mode"
        entry = {
            "file": fname,
            "model": name,
            "shape": list(arr.shape),
            "dtype": "float32",
            "bytes": (out / fname).stat().st_size,
            "input_shape": list(SHAPE_B if key == "final_1x3x96x64" else SHAPE_A),
            "meaning": meaning,
            "produced": produced,
            "max_abs": float(np.abs(arr).max()),
            "stats": {"min": float(arr.min()), "max": float(arr.max()), "mean_abs": float(np.abs(arr).mean())},
        }
        for rname, r in reruns.items():
            if key in r:
                d = maxabs(arr, r[key])
                entry[rname] = {"max_abs": d, "max_abs_over_max_ref": d / max(entry["max_abs"], 1e-30)}
        files.append(entry)
    key_blob = "\n".join(keys).encode()
    return {
        "files": files,
        "state_dict": {
            "entries": len(keys),
            "sha256_of_keys": hashlib.sha256(key_blob).hexdigest(),
            "sha256_how": "sha256 of the state_dict keys joined with '\\n' (no trailing newline), in state_dict order",
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()],
        },
        "formula_apply": info,
        "head_bias_init": {
            f"level{i}": {
                "box_bias": float(model.model[-1].cv2[i][-1].bias[0]),
                "cls_bias": float(model.model[-1].cv3[i][-1].bias[0]),
                "cls_bias_float32_hex": model.model[-1].cv3[i][-1].bias[0].detach().numpy().astype(">f4").tobytes().hex(),
            }
            for i in range(model.model[-1].nl)
        },
        "stride": [float(s) for s in model.stride],
        "layers_stored": layers,
    }


def child_openblas(tmp):
    """Run in a subprocess with OpenBLAS; save every array to tmp for the parent to compare."""
    import numpy as np
    import torch

    sys.path.insert(0, str(HERE))
    import formula as F

    torch.set_num_threads(2)
    for name, layers in PLAN.items():
        model, _ = build(name, F)
        ra = forward(model, torch.from_numpy(F.make_input(SHAPE_A)), layers)
        ra["final_1x3x96x64"] = forward(model, torch.from_numpy(F.make_input(SHAPE_B)), [])["final"]
        np.savez(Path(tmp) / f"{name}.npz", **ra)
    print("openblas child used", loaded_blas())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blas", default="netlib", choices=["netlib", "openblas"])
    ap.add_argument("--child-openblas", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-tolerance", action="store_true", help="skip the 1-thread/fp64/OpenBLAS reruns")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    reexec_with_blas("openblas" if args.child_openblas else args.blas)

    import numpy as np
    import torch
    import ultralytics

    sys.path.insert(0, str(HERE))
    import formula as F

    if args.child_openblas:
        return child_openblas(args.child_openblas)

    t0 = time.time()
    torch.set_num_threads(2)
    man_ref = json.loads((SHARED / "manifest.json").read_text())
    n_self = F.selfcheck(man_ref)
    x = F.make_input(SHAPE_A)
    assert float(x.sum(dtype=np.float64)) == man_ref["input"]["sum"]
    verify = verify_yolo26n(F)

    openblas = {}
    if not args.no_tolerance:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.pop("CYOLO_BLAS_SET", None)
            subprocess.run([sys.executable, __file__, "--child-openblas", tmp], check=True, env=env)
            for name in PLAN:
                with np.load(Path(tmp) / f"{name}.npz") as z:
                    openblas[name] = {k: z[k] for k in z.files}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": "tools/refgen/dump_v8_v11.py",
        "environment": {
            "ultralytics": ultralytics.__version__,
            "torch": str(torch.__version__),
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "torch_threads": 2,
            "blas": loaded_blas(),
            "device": "cpu",
        },
        "conventions": {
            "npy": "little-endian float32 .npy v1.0, C order",
            "weights": "formula weights exactly as /work/shared/reference/manifest.json formula_weights (state_dict "
            "key names of each model, double then one float32 rounding), then Detect.bias_init(); the DFL conv "
            "weight (model.22.dfl.conv.weight for yolov8n, model.23.dfl.conv.weight for yolo11n) keeps arange(16)",
            "input": "x.flat[i] = float32(u('input', i)) for the C-order flat index i; the (1,3,96,64) input uses the "
            "same name, so it equals the first 18432 values of the (2,3,128,160) one",
            "mode": "model.eval(): BatchNorm uses running stats; Detect is not end2end (reg_max=16, DFL, NMS later)",
            "v8_head": "yolov8n's Detect is built with legacy=True (parse_model sets it unless a C3k2/C2fCIB/A2C2f "
            "layer exists): class branch = Conv3x3(ch->c3) -> Conv3x3(c3->c3) -> Conv2d1x1(c3->nc); yolo11n's "
            "uses the DWConv variant like yolo26",
            "tolerances": "rerun_1thread = vs torch.set_num_threads(1); vs_fp64 = vs the same model and input in "
            "float64; openblas = vs the same run with libblas.so.3 -> OpenBLAS 0.3.21",
        },
        "formula_selfcheck_entries_ok": n_self,
        "yolo26n_check": verify,
        "models": {},
    }
    total = 0
    for name in PLAN:
        r = dump_model(name, F, out, tolerance=not args.no_tolerance, openblas=openblas.get(name))
        manifest["models"][name] = r
        for e in r["files"]:
            total += e["bytes"]
            print(f"  {e['file']:32s} {str(e['shape']):18s} max|v| {e['max_abs']:.4g}"
                  + (f"  1thr {e['rerun_1thread']['max_abs']:.2g} fp64 {e['vs_fp64']['max_abs']:.2g}"
                     f" openblas {e.get('openblas', {}).get('max_abs', float('nan')):.2g}"
                     if "vs_fp64" in e else ""), flush=True)
    # layer 0 (and 1) of both models have the same keys, shapes and input as yolo26n: outputs must agree
    a = np.load(out / "yolov8n_layer00.npy")
    assert np.array_equal(a, np.load(out / "yolo11n_layer00.npy"))
    assert np.array_equal(a, np.load(SHARED / "c2_n_eval_layer00.npy"))
    manifest["notes"] = [
        "yolov8n_layer00.npy, yolo11n_layer00.npy and the shared c2_n_eval_layer00.npy are bit-identical "
        "(same key model.0.conv.weight, same shape, same input)",
    ]
    manifest["total_bytes_excluding_manifest"] = total
    manifest["elapsed_s"] = round(time.time() - t0, 1)
    (out / "v8_v11_manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(sum((m['files'] for m in manifest['models'].values()), []))} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
