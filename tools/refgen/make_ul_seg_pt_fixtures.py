#!/usr/bin/env python3
"""Ultralytics-written segmentation .pt fixtures for tests/test_pt_ultralytics.c: pickled
SegmentationModel trees saved by the PyPI Ultralytics (8.4.190), tiny YAMLs, formula weights,
and the eval outputs Ultralytics computes from the weights as saved.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/make_ul_seg_pt_fixtures.py [OUT_DIR]

(default OUT_DIR tests/fixtures/pt). Writes, each as a best.pt-like checkpoint (ema = the fp16
model, model None, train_args task 'segment'):
  ul_seg26_tiny.pt    yolo26-style (end2end, reg_max 1, Segment26 + Proto26 over three levels)
  ul_segv8_tiny.pt    yolov8-style (DFL reg_max 4, an SPPF written as [c2, k] whose cv1 carries
                      SiLU in 8.4.190, Segment + Proto)
  ul_segv8_noact.pt   the same with the SPPF's cv1.act replaced by nn.Identity in the pickled module
                      (what 8.4.37 built from that row): a reader must follow the module, not the row
  ul_<name>_decoded.npy  Detect._inference of the inference branch (one2one for 26) for the
                      formula input (1, 3, 64, 96): (1, 4+nc+nm, A)
  ul_<name>_proto.npy    the prototypes (1, nm, 16, 24)
Development only: CI has no Python.
"""

import copy
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
os.environ.setdefault("YOLO_OFFLINE", "1")

import formula as F  # noqa: E402

SEG26 = """
nc: 2
end2end: True
reg_max: 1
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
head:
  - [[2, 3, 4], 1, Segment26, [nc, 4, 8]]
"""

SEGV8 = """
nc: 3
reg_max: 4
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, Conv, [16, 3, 2]]
  - [-1, 1, SPPF, [16, 5]]
head:
  - [[2, 3, 5], 1, Segment, [nc, 4, 8]]
"""

SHAPE = (1, 3, 64, 96)


def build(text, stem, tmp):
    from ultralytics.nn.tasks import SegmentationModel

    path = Path(tmp) / f"{stem}.yaml"
    path.write_text(text)
    model = SegmentationModel(path.name, verbose=False)
    F.apply_formula(model, bias_init=True)
    model.names = {i: n for i, n in enumerate(["cat", "dog", "bird"][: model.yaml["nc"]])}
    head = model.model[-1]
    if getattr(head, "one2one_cv2", None) is not None:
        head.end2end = True
    return model.eval()


def outputs(saved):
    m = copy.deepcopy(saved).float().eval()
    x = torch.from_numpy(F.make_input(SHAPE))
    with torch.no_grad():
        (_, proto), preds = m(x)
        branch = preds["one2one"] if "one2one" in preds else preds
        dec = m.model[-1]._inference(branch)
    return dec.numpy(), proto.numpy()


def save(out, name, model):
    from ultralytics import __version__

    ck = {"epoch": -1, "best_fitness": None, "model": None, "ema": copy.deepcopy(model).half(), "updates": 0,
          "optimizer": None, "train_args": {"task": "segment", "model": f"{name}.yaml"}, "date": "2026-01-01T00:00:00",
          "version": __version__}
    path = Path(out) / f"ul_{name}.pt"
    torch.save(ck, path)
    saved = torch.load(path, map_location="cpu", weights_only=False)["ema"]
    dec, proto = outputs(saved)
    np.save(Path(out) / f"ul_{name}_decoded.npy", dec.astype(np.float32))
    np.save(Path(out) / f"ul_{name}_proto.npy", proto.astype(np.float32))
    print(f"{name}: {len(saved.state_dict())} entries, decoded {dec.shape}, proto {proto.shape}, "
          f"stride {saved.stride.tolist()}")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "tests" / "fixtures" / "pt"))
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            save(out, "seg26_tiny", build(SEG26, "tiny-yolo26n-seg", tmp))
            v8 = build(SEGV8, "tiny-yolov8n-seg", tmp)
            assert type(v8.model[5].cv1.act).__name__ == "SiLU"
            save(out, "segv8_tiny", v8)
            v8.model[5].cv1.act = torch.nn.Identity()
            save(out, "segv8_noact", v8)
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
