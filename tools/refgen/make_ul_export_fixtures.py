#!/usr/bin/env python3
"""Reference module trees for tests/test_export_ultralytics.c: real Ultralytics 8.4.190 checkpoints
(torch.save of its own DetectionModel / SegmentationModel objects, in the state its trainer's
save_model leaves them: tools/refgen/ul_saved_model.py) of cyolo's model YAMLs at a tiny width, so
that cyolo's cy_export_ultralytics_pt can be compared with what Ultralytics itself pickles for the
same architecture: class names, attribute keys in order, non-tensor values, tensor dtypes and
shapes, Parameters.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/make_ul_export_fixtures.py [OUT_DIR]

(default OUT_DIR tests/fixtures/pt). Writes ulx_<name>.pt for
  v8     cfg/models/v8/yolov8.yaml       scale n at width 0.0625 (max_channels 256), nc 3 (C2f, SPPF [c2, k], Detect, DFL)
  11     cfg/models/11/yolo11.yaml       scale n at width 0.0625 (max_channels 256), nc 3 (C3k2 with C3k, C2PSA, DWConv head)
  26     cfg/models/26/yolo26.yaml       scale n at width 0.0625 (max_channels 256), nc 3 (end2end, reg_max 1, C3k2 attn, SPPF n/shortcut)
  seg26  cfg/models/26/yolo26-seg.yaml   scale n at width 0.0625 (max_channels 256), nc 2 (Segment26, Proto26)
  segv8  cfg/models/v8/yolov8-seg.yaml   scale n at width 0.0625 (max_channels 256), nc 2 (Segment, Proto)
with formula weights (tools/refgen/formula.py), names cat/dog/bird, train_args from get_cfg with
imgsz 64 (the head's anchor cache is for a (1, 3, 64, 64) batch). Development only: CI has no Python.
"""

import os
import re
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
os.environ.setdefault("YOLO_OFFLINE", "1")

import formula as F  # noqa: E402
from ul_saved_model import saved_like  # noqa: E402

CASES = [  # name, cyolo YAML, file name Ultralytics records, nc
    ("v8", "cfg/models/v8/yolov8.yaml", "tiny-yolov8n.yaml", 3),
    ("11", "cfg/models/11/yolo11.yaml", "tiny-yolo11n.yaml", 3),
    ("26", "cfg/models/26/yolo26.yaml", "tiny-yolo26n.yaml", 3),
    ("seg26", "cfg/models/26/yolo26-seg.yaml", "tiny-yolo26n-seg.yaml", 2),
    ("segv8", "cfg/models/v8/yolov8-seg.yaml", "tiny-yolov8n-seg.yaml", 2),
]
IMGSZ = 64


def tiny_yaml(src):
    """The YAML with scale n's width 0.0625 and max_channels 256 (every layer 8 or 16 channels wide),
    reg_max 4 where it was the default 16, and 8 mask coefficients: small files, the same modules."""
    text = (REPO / src).read_text()
    out, n = re.subn(r"^(\s*n:\s*\[\s*[0-9.]+\s*,\s*)[0-9.]+\s*,\s*[0-9]+", r"\g<1>0.0625, 256", text, count=1,
                     flags=re.M)
    assert n == 1, src
    if "reg_max:" not in out:  # 4 DFL bins instead of 16: a smaller box branch, the same modules
        out, n = re.subn(r"^(nc:.*)$", r"\1\nreg_max: 4", out, count=1, flags=re.M)
        assert n == 1, src
    out = re.sub(r"(Segment2?6?, \[nc, )32,", r"\g<1>8,", out)  # 8 mask coefficients instead of 32
    return out


def main():
    from ultralytics.nn.tasks import DetectionModel, SegmentationModel

    out = Path(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "tests" / "fixtures" / "pt")))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)  # yaml_file is stored as given
        try:
            for name, src, file, nc in CASES:
                Path(file).write_text(tiny_yaml(src))
                cls = SegmentationModel if name.startswith("seg") else DetectionModel
                model = cls(file, nc=nc, verbose=False)
                F.apply_formula(model, bias_init=True)
                model.names = {i: n for i, n in enumerate(["cat", "dog", "bird"][:nc])}
                ck = saved_like(model, IMGSZ, {"model": file, "data": "tiny.yaml"})
                path = out / f"ulx_{name}.pt"
                torch.save(ck, path)
                ema = ck["ema"]
                print(f"{path.name}: {type(ema).__name__}, {len(ema.state_dict())} state_dict entries, "
                      f"{len(list(ema.modules()))} modules, {path.stat().st_size} bytes")
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
