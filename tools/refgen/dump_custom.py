#!/usr/bin/env python3
"""Dump Ultralytics reference tensors and model.info() figures for the custom model YAMLs
in tests/fixtures/custom/ (formula weights), for tests/test_parity_custom.c.

Measuring instrument, run by hand; its outputs are committed under tests/fixtures/custom/.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_custom.py

What it does:
  1. Re-executes itself with Debian's netlib BLAS first on LD_LIBRARY_PATH, exactly as
     tools/refgen/dump_v8_v11.py does (the BLAS the shared reference was dumped with).
  2. For each model in PLAN: DetectionModel(yaml, nc=<the yaml's nc>, verbose=True),
     capturing the parse_model table as printed; model_info(model, imgsz=640) for layers
     (leaf modules), parameters, gradients and unrounded GFLOPs (thop, as printed; note
     tools/flops_recompute.py does not apply here: it moves spatial sizes only through
     layers of type Conv, not DWConv); then the formula weights of tools/refgen/formula.py
     (apply_formula, Detect.bias_init(), the DFL conv keeps arange(reg_max)); model.eval().
  3. Eval forward on the formula input (2, 3, 64, 96) (name 'input'); saves float32 .npy:
     chosen layer outputs (forward hooks), the decoded (B, 4+nc, A) output of
     Detect._inference (the one2one branch for end2end heads; then boxes are xyxy, else
     xywh, in input pixels, followed by sigmoid scores) and, for end2end heads, the final
     (B, min(300, A), 6) top-k rows (x1, y1, x2, y2, score, class).
  4. Writes tests/fixtures/custom/manifest.json (per model: figures, stride, table rows,
     summary line, files with shapes, max|v| and the float32-vs-float64 difference).
"""

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "tests" / "fixtures" / "custom"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tools"))

from dump_v8_v11 import loaded_blas, reexec_with_blas, save_npy  # noqa: E402

SHAPE = (2, 3, 64, 96)
# model yaml (relative to the repo root, as the C test opens it) -> layers to store
PLAN = {
    "tests/fixtures/custom/custom_a.yaml": [4, 8, 11, 17],
    "tests/fixtures/custom/custom_yolo9s.yaml": [4, 6, 8, 9, 12],
    "tests/fixtures/custom/custom_c.yaml": [3, 5, 9],
}


def yaml_nc(path):
    from ultralytics.utils import YAML

    return int(YAML.load(path)["nc"])


def build(path, F):
    """The model as Ultralytics builds it, its printed table, and model.info() figures."""
    from model_info import Capture, leaf_layers, parse_table
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import model_info

    cap = Capture()
    LOGGER.addHandler(cap)
    try:
        model = DetectionModel(path, nc=yaml_nc(path), verbose=True)
        rows, printed = parse_table(cap.lines, model)
        cap.lines.clear()
        n_l, n_p, n_g, flops = model_info(model, verbose=True, imgsz=640)
        summary = [ln for ln in cap.lines if " summary" in ln and "layers" in ln]
    finally:
        LOGGER.removeHandler(cap)
    assert n_l == len(leaf_layers(model))
    head = model.model[-1]
    info = {
        "yaml": path,
        "scale": model.yaml.get("scale"),
        "nc": int(head.nc),
        "reg_max": int(head.reg_max),
        "end2end": bool(model.end2end),
        "detect_legacy_cv3": bool(type(head).legacy),
        "layers": n_l,
        "parameters": n_p,
        "gradients": n_g,
        "GFLOPs_unrounded": flops,
        "GFLOPs_printed": f"{flops:.1f}",
        "stride": [float(s) for s in model.stride],
        "summary_line": summary[-1] if summary else None,
        "table": rows,
        "table_text": printed,
        "state_dict_entries": len(model.state_dict()),
    }
    formula = F.apply_formula(model, bias_init=True)
    model.eval()
    if hasattr(head.dfl, "conv"):
        import torch

        assert torch.equal(head.dfl.conv.weight.view(-1), torch.arange(head.reg_max, dtype=torch.float32))
    info["formula_apply"] = formula
    return model, info


def forward(model, x, layers):
    """Eval forward; {key: np.float32 array}: stored layers, decoded prediction, final output."""
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
    head = model.model[-1]
    with torch.no_grad():
        res["decoded"] = head._inference(preds["one2one"] if head.end2end else preds).float().numpy()
    if head.end2end:
        res["final"] = y.float().numpy()
    else:
        assert torch.equal(torch.from_numpy(res["decoded"]), y.float())
    return res


def meaning(model, key):
    head = model.model[-1]
    if key.startswith("layer"):
        i = int(key[5:])
        m = model.model[i]
        return f"eval-mode output of layer {i} ({m.type}, from {m.f}), forward hook on model.model[{i}]"
    if key == "decoded":
        box = "x1, y1, x2, y2" if head.end2end else "centre x, centre y, width, height"
        branch = "one2one branch, " if head.end2end else ""
        return (f"Detect._inference ({branch}before top-k): (B, 4+nc, A); rows 0-3 = {box} in input pixels, "
                "then sigmoid class scores; anchors by level (strides ascending), row-major within a level")
    return ("final eval output y of (y, preds) = model(x): (B, min(max_det=300, A), 6) rows "
            "(x1, y1, x2, y2, score, class) from Detect.postprocess top-k on the decoded one2one output")


def dump(path, layers, F, out):
    import numpy as np
    import torch

    model, info = build(path, F)
    x = torch.from_numpy(F.make_input(SHAPE))
    res = forward(model, x, layers)
    m64 = model.double()
    r64 = forward(m64, x.double(), layers)
    model.float()
    stem = Path(path).stem
    files = []
    for key, arr in res.items():
        fname = f"{stem}_{key}.npy"
        save_npy(out / fname, arr)
        d = float(np.abs(arr.astype(np.float64) - r64[key]).max()) if key != "final" else None
        files.append({
            "file": fname,
            "shape": list(arr.shape),
            "dtype": "float32",
            "bytes": (out / fname).stat().st_size,
            "meaning": meaning(model, key),
            "max_abs": float(np.abs(arr).max()),
            "vs_fp64_max_abs": d,
        })
    info["input_shape"] = list(SHAPE)
    info["layers_stored"] = layers
    info["files"] = files
    return stem, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--yaml", nargs="*", help="dump these yamls instead of PLAN (layers: none)")
    args = ap.parse_args()
    reexec_with_blas("netlib")
    os.chdir(REPO)

    import numpy as np
    import torch
    import ultralytics

    import formula as F

    logging.getLogger("ultralytics").setLevel(logging.INFO)
    t0 = time.time()
    torch.set_num_threads(2)
    plan = {y: [] for y in args.yaml} if args.yaml else PLAN
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": "tools/refgen/dump_custom.py",
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
            "weights": "formula weights of tools/refgen/formula.py (state_dict key names), then "
            "Detect.bias_init(); the DFL conv weight keeps arange(reg_max)",
            "input": "x.flat[i] = float32(u('input', i)), shape (2, 3, 64, 96), C order",
            "model": "DetectionModel(<yaml path relative to the repo root>, nc=<the yaml's nc>), model.eval()",
            "layers": "model.info() 'layers': leaf modules of named_modules() (see tools/FLOPS_RULE.md)",
            "GFLOPs_unrounded": "get_flops(model, 640) with the thop installed here (attention matmuls count 0)",
            "table_text": "the parse_model rows exactly as printed (see tools/model_info.py)",
            "vs_fp64_max_abs": "max|float32 - float64 run| of the same model and input (noise scale)",
        },
        "models": {},
    }
    total = 0
    for path, layers in plan.items():
        stem, info = dump(path, layers, F, out)
        manifest["models"][stem] = info
        print(f"{stem}: {info['layers']} layers, {info['parameters']:,} params, "
              f"{info['GFLOPs_unrounded']:.6f} GFLOPs, stride {info['stride']}", flush=True)
        for e in info["files"]:
            total += e["bytes"]
            print(f"  {e['file']:36s} {str(e['shape']):18s} max|v| {e['max_abs']:.4g}  fp64 {e['vs_fp64_max_abs']}")
    manifest["total_bytes_excluding_manifest"] = total
    manifest["elapsed_s"] = round(time.time() - t0, 1)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {total} bytes of .npy and manifest.json to {out}")


if __name__ == "__main__":
    main()
