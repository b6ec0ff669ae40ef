#!/usr/bin/env python3
"""Record what the PyPI Ultralytics reports about each -seg model, as a test fixture.

Measuring instrument (never run by the product). For yolov8, yolo11 and yolo26,
scales n/s/m/l/x, nc=80, it builds SegmentationModel and DetectionModel from the
packaged yamls and writes tests/fixtures/seg/model_info_seg.json with, per model:

  - model.info() numbers of the -seg model: layers, parameters, gradients,
    GFLOPs at imgsz 640 (unrounded), and the same for the detect model of the
    same scale (the segment head's increment is what cyolo is held to for
    layers and GFLOPs, because cyolo counts the detection part as 8.4.37 does);
  - the per-layer table parse_model prints (params, module type, args);
  - the number of state_dict entries, and for scale n the head's state_dict
    (names and shapes, in order).

Run:  YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/model_info_seg.py
"""

import json
import logging
import os
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
FAMILIES = {"yolov8": "v8", "yolo11": "11", "yolo26": "26"}


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def main():
    import torch
    import ultralytics
    from ultralytics.nn.tasks import DetectionModel, SegmentationModel
    from ultralytics.utils import LOGGER
    from ultralytics.utils.torch_utils import model_info

    torch.set_num_threads(2)
    cap = Capture()
    LOGGER.addHandler(cap)
    out = {"generator": "tools/model_info_seg.py", "ultralytics": ultralytics.__version__,
           "torch": str(torch.__version__), "models": {}}
    for fam, short in FAMILIES.items():
        for s in "nsmlx":
            name = f"{fam}{s}-seg"
            cap.lines.clear()
            model = SegmentationModel(f"{name}.yaml", nc=80, verbose=True)
            rows = [{"index": m.i, "from": m.f, "params": int(m.np), "module": m.type,
                     "args": ln[ln.index("  " + m.type, 36) + 2 + max(45, len(m.type)):].rstrip()}
                    for ln, m in zip([ln for ln in cap.lines if ln[:3].strip().isdigit() and len(ln) >= 81],
                                     model.model)]
            n_l, n_p, n_g, flops = model_info(model, verbose=True, imgsz=640)
            det = DetectionModel(f"{fam}{s}.yaml", nc=80, verbose=False)
            d_l, d_p, d_g, d_flops = model_info(det, verbose=True, imgsz=640)
            head = model.model[-1]
            rec = {"family": short, "scale": s, "yaml": f"{name}.yaml", "layers": n_l, "parameters": n_p,
                   "gradients": n_g, "GFLOPs": flops, "detect_layers": d_l, "detect_parameters": d_p,
                   "detect_GFLOPs": d_flops, "nm": head.nm, "npr": head.npr,
                   "stride": [float(x) for x in model.stride], "state_dict_entries": len(model.state_dict()),
                   "table": rows}
            if s == "n":
                p = f"model.{len(model.model) - 1}."
                rec["head_state_dict"] = [[k, list(v.shape)] for k, v in model.state_dict().items()
                                          if k.startswith(p)]
            out["models"][name] = rec
            print(f"{name:12s} {n_l:4d} layers {n_p:>11,} params {flops:10.4f} GFLOPs "
                  f"(detect {d_l} {d_flops:.4f})", flush=True)
    LOGGER.removeHandler(cap)
    dst = REPO / "tests" / "fixtures" / "seg" / "model_info_seg.json"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(out, indent=0) + "\n")
    print("wrote", dst, dst.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
