#!/usr/bin/env python3
"""Ultralytics-written .pt fixtures for tests/test_pt_ultralytics.c: real pickled
DetectionModel trees (torch.save of Ultralytics 8.4.37 objects), kept small with tiny
model YAMLs, and the eval output Ultralytics computes from the saved weights.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/make_ul_pt_fixtures.py [OUT_DIR]

(default OUT_DIR tests/fixtures/pt). Writes:
  ul_v8_tiny.pt        yolov8-style (C2f, SPPF, Detect with DFL, reg_max 4), formula weights,
                       the final best.pt layout (trainer checkpoint -> strip_optimizer:
                       fp16 model, ema None). Two fp16 tensors are views: model.0.conv.weight
                       is a permuted view at storage offset 7, and model.1.bn.running_mean /
                       running_var are two slices of one storage.
  ul_11_tiny.pt        yolo11-style (C3k2 in both forms, SPPF, Detect reg_max 8), the
                       mid-training last.pt layout (model None, ema = the model, args an
                       IterableSimpleNamespace, optimizer state, train_metrics), mixed
                       dtypes: fp16 overall, model.1.bn.* float64, model.0.conv.weight bfloat16.
  ul_<name>_decoded.npy  eval output y of model(x) for the formula input (1, 3, 64, 96),
                       computed in float32 from the weights exactly as saved: (1, 4+nc, A),
                       xywh boxes in pixels then sigmoid scores.
  ul_seg_tiny.pt       a tiny SegmentationModel (Segment head): cyolo must name the module.
  ul_badshape.pt       a tiny DetectionModel whose yaml's first Conv was made 16 channels wide
                       after building it with 8: the shapes do not fit the YAML.
Also prints the numbers tests/test_pt_ultralytics.c asserts (state_dict sizes, names).
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

import formula as F  # noqa: E402
from dump_v8_v11 import save_npy  # noqa: E402

V8_TINY = """
nc: 3
reg_max: 4
scales:
  n: [0.33, 0.0625, 16]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 3, C2f, [128, True]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 6, C2f, [256, True]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [-1, 6, C2f, [512, True]]
  - [-1, 1, Conv, [1024, 3, 2]]
  - [-1, 3, C2f, [1024, True]]
  - [-1, 1, SPPF, [1024, 5]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 6], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 3, C2f, [256]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [[-1, 12], 1, Concat, [1]]
  - [-1, 3, C2f, [512]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 9], 1, Concat, [1]]
  - [-1, 3, C2f, [1024]]
  - [[15, 18, 21], 1, Detect, [nc]]
"""

V11_TINY = """
nc: 2
reg_max: 8
scales:
  n: [0.50, 0.0625, 16]
backbone:
  - [-1, 1, Conv, [64, 3, 2]]
  - [-1, 1, Conv, [128, 3, 2]]
  - [-1, 2, C3k2, [256, False, 0.25]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [-1, 2, C3k2, [512, True, 0.25]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [-1, 2, C3k2, [512, True]]
  - [-1, 1, Conv, [1024, 3, 2]]
  - [-1, 2, C3k2, [1024, True]]
  - [-1, 1, SPPF, [1024, 5]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 6], 1, Concat, [1]]
  - [-1, 2, C3k2, [512, False]]
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 2, C3k2, [256, False]]
  - [-1, 1, Conv, [256, 3, 2]]
  - [[-1, 12], 1, Concat, [1]]
  - [-1, 2, C3k2, [512, False]]
  - [-1, 1, Conv, [512, 3, 2]]
  - [[-1, 9], 1, Concat, [1]]
  - [-1, 2, C3k2, [1024, True]]
  - [[15, 18, 21], 1, Detect, [nc]]
"""

MINI = """
nc: 2
reg_max: 4
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
head:
  - [[2, 3, 4], 1, HEAD]
"""

SHAPE = (1, 3, 64, 96)


def build(cls_name, text, stem, tmp):
    from ultralytics.nn import tasks

    path = Path(tmp) / f"{stem}.yaml"
    path.write_text(text)
    cls = getattr(tasks, cls_name)
    model = cls(path.name, verbose=False)  # run inside tmp: yaml_file is stored as given
    F.apply_formula(model, bias_init=True)
    model.names = {i: n for i, n in enumerate(["cat", "dog", "bird"][: model.yaml["nc"]])}
    return model.eval()


def permuted_view(t, offset=7):
    """The same values as t (4-d), stored permuted (1, 0, 2, 3) at a storage offset."""
    stored = t.permute(1, 0, 2, 3).contiguous()
    base = torch.cat([torch.full((offset,), 9.0, dtype=t.dtype), stored.flatten()])
    return base[offset:].view(stored.shape).permute(1, 0, 2, 3)


def reference_output(saved_model):
    m = copy.deepcopy(saved_model).float().eval()
    x = torch.from_numpy(F.make_input(SHAPE))
    with torch.no_grad():
        y = m(x)
    return (y[0] if isinstance(y, (tuple, list)) else y).numpy()


def meta():
    from ultralytics import __version__

    return {"date": "2026-01-01T00:00:00", "version": __version__, "license": "AGPL-3.0 (https://ultralytics.com/license)",
            "docs": "https://docs.ultralytics.com"}


def v8_tiny(out, tmp):
    from ultralytics.cfg import get_cfg
    from ultralytics.utils.torch_utils import strip_optimizer

    model = build("DetectionModel", V8_TINY, "tiny-yolov8n", tmp)
    ema = copy.deepcopy(model).half()
    with torch.no_grad():
        conv = ema.model[0].conv
        conv.weight = torch.nn.Parameter(permuted_view(conv.weight.data), requires_grad=False)
        bn = ema.model[1].bn
        both = torch.cat([bn.running_mean, bn.running_var])
        c = bn.running_mean.numel()
        bn.running_mean, bn.running_var = both[:c], both[c:]
    assert not ema.model[0].conv.weight.is_contiguous()
    assert bn.running_mean.storage().data_ptr() == bn.running_var.storage().data_ptr()
    args = vars(get_cfg(overrides={"model": "tiny-yolov8n.yaml", "data": "tiny.yaml", "epochs": 3}))
    ck = {"epoch": 2, "best_fitness": 0.5, "model": None, "ema": ema, "updates": 30, "optimizer": None,
          "scaler": None, "train_args": args, "train_metrics": {"fitness": 0.5}, "train_results": {}, **meta()}
    path = Path(out) / "ul_v8_tiny.pt"
    torch.save(ck, path)
    strip_optimizer(path)  # the final best.pt layout: model <- ema (fp16), ema None
    saved = torch.load(path, map_location="cpu")["model"]
    assert saved.model[0].conv.weight.storage_offset() == 7 and not saved.model[0].conv.weight.is_contiguous()
    save_npy(Path(out) / "ul_v8_tiny_decoded.npy", reference_output(saved))
    report("ul_v8_tiny", saved)



def v11_tiny(out, tmp):
    from ultralytics.cfg import get_cfg
    from ultralytics.utils import IterableSimpleNamespace

    model = build("DetectionModel", V11_TINY, "tiny-yolo11n", tmp)
    args = get_cfg(overrides={"model": "tiny-yolo11n.yaml", "data": "tiny.yaml", "epochs": 5})
    model.args = IterableSimpleNamespace(**vars(args))
    ema = copy.deepcopy(model).half()
    with torch.no_grad():
        ema.model[1].bn.double()
        conv = ema.model[0].conv
        conv.weight = torch.nn.Parameter(conv.weight.data.to(torch.bfloat16), requires_grad=False)
    params = [p for p in model.parameters()][:3]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    ck = {"epoch": 1, "best_fitness": 0.25, "model": None, "ema": ema, "updates": 12, "optimizer": opt.state_dict(),
          "scaler": None, "train_args": vars(args), "train_metrics": {"metrics/mAP50(B)": 0.125, "fitness": 0.25},
          "train_results": {"epoch": [1.0, 2.0]}, **meta()}
    path = Path(out) / "ul_11_tiny.pt"
    torch.save(ck, path)
    saved = torch.load(path, map_location="cpu")["ema"]
    assert saved.model[1].bn.running_var.dtype == torch.float64
    assert saved.model[0].conv.weight.dtype == torch.bfloat16
    save_npy(Path(out) / "ul_11_tiny_decoded.npy", reference_output(saved))
    report("ul_11_tiny", saved)


def mini(out, tmp):
    seg = build("SegmentationModel", MINI.replace("HEAD", "Segment, [nc, 4, 8]"), "mini-seg", tmp)
    torch.save({"model": copy.deepcopy(seg).half(), "ema": None, "train_args": {"task": "segment"}, **meta()},
               Path(out) / "ul_seg_tiny.pt")
    bad = build("DetectionModel", MINI.replace("HEAD", "Detect, [nc]"), "mini-det", tmp).half()
    bad.yaml["backbone"][0][3] = [16, 3, 2]  # the weights of model.0 have 8 output channels
    torch.save({"model": bad, "ema": None, "train_args": {"task": "detect"}, **meta()}, Path(out) / "ul_badshape.pt")


def report(name, m):
    sd = m.state_dict()
    n = sum(t.numel() for k, t in sd.items() if not k.endswith("num_batches_tracked"))
    print(f"{name}: {len(sd)} state_dict entries, {n} values, stride {m.stride.tolist()}, names {m.names}, "
          f"yaml_file {m.yaml.get('yaml_file')}, scale {m.yaml.get('scale')}")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "tests" / "fixtures" / "pt"))
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            v8_tiny(out, tmp)
            v11_tiny(out, tmp)
            mini(out, tmp)
        finally:
            os.chdir(cwd)
    print("wrote Ultralytics fixtures to", out)


if __name__ == "__main__":
    main()
