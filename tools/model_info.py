#!/usr/bin/env python3
"""Record what Ultralytics reports about each detect model, as a test fixture.

Measuring instrument (never run by the product). For yolov8, yolo11 and yolo26,
scales n/s/m/l/x, nc=80, it builds DetectionModel from the packaged yaml and
writes tests/fixtures/model_info.json with:

  - model.info() numbers: layers, parameters, gradients, GFLOPs at imgsz 640
    (unrounded, 4-decimal, and the 1-decimal string Ultralytics prints);
  - GFLOPs as thop would report them on a torch that enables its functional
    matmul counting (attention matmuls included), measured by switching that
    counter on, and the tools/flops_recompute.py values for both variants;
  - the per-layer table parse_model prints (index, from, n, params, module
    type string, args as printed) plus the raw printed lines;
  - strides and the number of state_dict entries.

Run with the Ultralytics venv (Debian torch):
    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/model_info.py
"""

import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

FAMILIES = {"yolov8": "v8", "yolo11": "11", "yolo26": "26"}
SCALES = "nsmlx"
# parse_model's line format: f"{i:>3}{f!s:>20}{n_:>3}{m_.np:10.0f}  {t:<45}{args!s:<30}"
FMT = "{i:>3}{f:>20}{n:>3}{np:10.0f}  {t:<45}{a:<30}"


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def parse_table(lines, model):
    """Split parse_model's printed rows into fields, checked by re-printing them."""
    rows = []
    layers = list(model.model)
    printed = [ln for ln in lines if ln[:3].strip().isdigit() and len(ln) >= 81]
    assert len(printed) == len(layers), (len(printed), len(layers))
    for ln, m in zip(printed, layers):
        t = m.type
        i, f, np_ = m.i, m.f, m.np
        n = int(ln[23:26])
        k = ln.index("  " + t, 36) + 2
        args = ln[k + max(45, len(t)):].rstrip()
        again = FMT.format(i=i, f=str(f), n=n, np=np_, t=t, a=args)
        assert again.rstrip() == ln.rstrip(), (again, ln)
        rows.append({"index": i, "from": f, "n": n, "params": int(np_), "module": t, "args": args})
    return rows, printed


def leaf_layers(model):
    """model.info()'s 'layers': named_modules() entries (deduplicated by identity) without children."""
    return [n for n, m in model.named_modules() if len(m._modules) == 0]


def thop_matmul_gflops(model):
    """get_flops with thop's functional-matmul counter forced on (what a release torch >= 1.13 gets)."""
    import importlib

    from ultralytics.utils.torch_utils import get_flops

    tp = importlib.import_module("thop.profile")
    old = tp._COUNTS_FUNCTIONS
    if not hasattr(tp, "_FunctionCounter"):  # class only defined when the switch was on at import
        import torch

        class _FunctionCounter(torch.overrides.TorchFunctionMode):
            def __init__(self, state):
                super().__init__()
                self.state = state

            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                y = func(*args, **kwargs)
                rule = tp.functional_hooks.get(func)
                if rule is not None and not self.state["depth"]:
                    self.state["ops"] += rule(args, kwargs, y)
                return y

        tp._FunctionCounter = _FunctionCounter
    tp._COUNTS_FUNCTIONS = True
    try:
        return get_flops(model, 640)
    finally:
        tp._COUNTS_FUNCTIONS = old


def main():
    import importlib.metadata as md

    import torch
    import ultralytics
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import model_info

    import flops_recompute as fr

    torch.set_num_threads(2)
    cap = Capture()
    LOGGER.addHandler(cap)
    out = {
        "generator": "tools/model_info.py",
        "ultralytics": ultralytics.__version__,
        "torch": str(torch.__version__),
        "thop": md.version("ultralytics-thop"),
        "thop_counts_matmul_here": fr.thop_counts_matmul(),
        "notes": {
            "layers": "number of leaf modules (no child modules) in model.named_modules(); named_modules "
            "deduplicates by identity, so the SiLU instance shared by every Conv (Conv.default_act) counts once, "
            "while each act=False Conv owns its own nn.Identity and counts",
            "GFLOPs": "get_flops(model, 640) unrounded, with the thop installed here; see tools/FLOPS_RULE.md",
            "GFLOPs_matmul": "the same with thop's functional matmul counting forced on (attention q^T k and "
            "v attn^T counted at the 32x32 probe and scaled by 400); this is what a release torch >= 1.13 "
            "reports with ultralytics-thop >= 2.2, whereas Debian's torch '1.13.0a0' compares below 1.13",
            "GFLOPs_printed": "model.info() prints f'{GFLOPs:.1f}'",
            "GFLOPs_direct640_matmul": "NOT 8.4.37: everything counted directly at 640x640 with attention matmuls at "
            "their true N; from tools/flops_recompute.gflops_direct. Checked equal (1e-9) to what ultralytics 8.4.190 "
            "(thop stride-proxy extrapolation) reports with PyPI torch 2.15.0 for all 15 models",
            "verified_elsewhere": "ultralytics 8.4.37 + ultralytics-thop 2.2.3 + PyPI torch 2.15.0 reports exactly "
            "GFLOPs_matmul_unrounded (and the same layers and parameters) for all 15 models",
            "table.args": "str(args) exactly as parse_model prints it (after channel scaling and inserts)",
        },
        "models": {},
    }
    for fam, short in FAMILIES.items():
        for s in SCALES:
            name = f"{fam}{s}"
            cap.lines.clear()
            model = DetectionModel(f"{name}.yaml", nc=80, verbose=True)
            rows, printed = parse_table(cap.lines, model)
            summary = [ln for ln in cap.lines if " summary" in ln and "layers" in ln]
            cap.lines.clear()
            n_l, n_p, n_g, flops = model_info(model, verbose=True, imgsz=640)
            assert n_l == len(leaf_layers(model))
            gm = thop_matmul_gflops(model)
            rec = fr.gflops(model, matmul=False)
            rec_m = fr.gflops(model, matmul=True)
            assert abs(rec - flops) < 1e-9 and abs(rec_m - gm) < 1e-9, (name, rec, flops, rec_m, gm)
            head = model.model[-1]
            out["models"][name] = {
                "family": short,
                "scale": s,
                "yaml": f"{name}.yaml",
                "summary_line": summary[-1] if summary else None,
                "layers": n_l,
                "parameters": n_p,
                "gradients": n_g,
                "GFLOPs": round(flops, 4),
                "GFLOPs_unrounded": flops,
                "GFLOPs_printed": f"{flops:.1f}",
                "GFLOPs_matmul": round(gm, 4),
                "GFLOPs_matmul_unrounded": gm,
                "GFLOPs_recomputed": rec,
                "GFLOPs_matmul_recomputed": rec_m,
                "GFLOPs_direct640_matmul": round(fr.gflops_direct(model, 640, matmul=True), 4),
                "GFLOPs_direct640_matmul_unrounded": fr.gflops_direct(model, 640, matmul=True),
                "stride": [float(x) for x in model.stride],
                "end2end": bool(model.end2end),
                "reg_max": int(head.reg_max),
                "detect_legacy_cv3": bool(type(head).legacy),
                "state_dict_entries": len(model.state_dict()),
                "table": rows,
                "table_text": printed,
            }
            print(f"{name:8s} {n_l:4d} layers {n_p:>11,} params {n_g:>11,} grads "
                  f"{flops:10.4f} GFLOPs ({gm:.4f} with matmul)", flush=True)
    LOGGER.removeHandler(cap)
    dst = REPO / "tests" / "fixtures" / "model_info.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", dst)


if __name__ == "__main__":
    main()
