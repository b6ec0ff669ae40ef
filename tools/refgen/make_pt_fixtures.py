#!/usr/bin/env python3
"""Fixtures for tests/test_pt.c, made by real torch.save, and a checker for
files cyolo writes.

  make:  python make_pt_fixtures.py [OUT_DIR]       (default tests/fixtures/pt)
         writes t<major>_*.pt: 1.13 (Debian, /work/venv-ul) and 2.x make
         different layouts (2.x adds byteorder, .format_version, ...).
  resave: python make_pt_fixtures.py --resave IN.pt OUT.pt
         torch.load(IN, weights_only=True) then torch.save(OUT): committed as
         tests/fixtures/pt/t<major>_resaved*.pt from the files test_pt.c writes
         (CYOLO_PT_OUT=dir): proof, replayed in CI, that torch's restricted
         loader reads what cyolo writes value for value (test_pt.c compares
         the re-saved tree with the one it wrote). Made with Debian's torch
         1.13 (ckpt_nofloat.pt, see below) and PyPI torch 2.x (ckpt.pt).
  check: python make_pt_fixtures.py --check FILE.pt
         loads a cyolo-written checkpoint with torch.load(weights_only=True)
         and compares it with expected_ckpt() below, which mirrors
         make_ckpt() in tests/test_pt.c. Torch 1.13's weights_only unpickler
         has no BINFLOAT opcode (it cannot read its own files with floats),
         so there --check uses the full unpickler and --check-nofloat
         FILE.pt (test_pt.c writes ckpt_nofloat.pt too) checks weights_only.

Values are small closed formulas so the C test rebuilds them exactly.
Development only: CI has no Python."""
import collections
import math
import os
import sys

import torch


def ramp(n, dtype=torch.float32):
    # (i % 17) * 0.125 - 1: exact in float16 and bfloat16 too
    return torch.tensor([(i % 17) * 0.125 - 1.0 for i in range(n)], dtype=torch.float64).to(dtype)


def conv_bn_state_dict():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4))
    with torch.no_grad():
        for p in list(m.parameters()) + [m[1].running_mean, m[1].running_var]:
            p.copy_(ramp(p.numel()).view_as(p))
        m[1].num_batches_tracked.fill_(7)
    return m.state_dict()  # OrderedDict with _metadata (pickled through BUILD)


def make(out):
    os.makedirs(out, exist_ok=True)
    tag = "t%d" % int(torch.__version__.split(".")[0])
    if torch.__version__.startswith("1."):
        tag = "t1"
    shared = [1, 2]
    nested = {
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -129, 2**31 - 1, -2**31, 2**40, -2**40, 2**63 - 1, -2**63],
        "floats": [0.5, -0.0, 1e300, float("inf"), -2.25],
        "misc": [None, True, False, "", "h\u00e9llo \u2713"],
        "tuple": (1, "x", (2, 3), (), (None,), (1, 2, 3, 4)),
        "names": {0: "a", 1: "b"},
        "empty": {},
        "elist": [],
        "shared_a": shared,
        "shared_b": shared,
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
    }
    torch.save(conv_bn_state_dict(), os.path.join(out, tag + "_state_dict.pt"))
    torch.save(nested, os.path.join(out, tag + "_nested.pt"))
    dtypes = {
        "f32": ramp(6).view(2, 3),
        "f16": ramp(6, torch.float16).view(3, 2),
        "bf16": ramp(4, torch.bfloat16),
        "f64": ramp(3, torch.float64),
        "i64": torch.tensor([0, -1, 2**40, -2**62], dtype=torch.int64),
        "i32": torch.tensor([7, -7], dtype=torch.int32),
        "i16": torch.tensor([300, -300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(7),
        "empty": torch.zeros(0, 3),
    }
    torch.save(dtypes, os.path.join(out, tag + "_dtypes.pt"))
    base = ramp(24).view(4, 6)
    views = {
        "base": base,
        "t": base.t(),
        "block": base[1:3, 2:5],
        "row": base[2],
        "step": base[:, ::2],
    }
    torch.save(views, os.path.join(out, tag + "_views.pt"))
    print("wrote", tag, "fixtures to", out)


def expected_ckpt(with_floats=True):
    od = collections.OrderedDict()
    od["model.0.conv.weight"] = ramp(108).view(4, 3, 3, 3)
    od["model.0.bn.weight"] = ramp(4)
    od["model.0.bn.bias"] = ramp(4) * 0.5
    od["model.0.bn.running_mean"] = ramp(4)
    od["model.0.bn.running_var"] = ramp(4) + 2
    od["model.0.bn.num_batches_tracked"] = torch.tensor(7)
    conv = od["model.0.conv.weight"]
    ck = {"epoch": 3}
    if with_floats:
        ck["best_fitness"] = 0.5
    ck["model"] = od
    ck["ema"] = collections.OrderedDict([("model.0.conv.weight", conv.half())])
    ck["updates"] = 10
    group = {"params": [0], "nesterov": True}
    if with_floats:
        group["lr"] = 0.01
    ck["optimizer"] = {"state": {0: {"momentum_buffer": ramp(4)}}, "param_groups": [group]}
    ck["train_args"] = {"model": "yolo26n.yaml", "data": "coco8.yaml", "epochs": 100, "imgsz": 640,
                        "device": None, "amp": True, "name": "train"}
    if with_floats:
        ck["train_args"]["lr0"] = 0.01
        ck["train_metrics"] = {"metrics/mAP50(B)": 0.25, "fitness": float("inf")}
    ck.update({
        "date": "2025-01-01T00:00:00",
        "version": "8.3.0",
        "names": {0: "a", 1: "b"},
        "big": 2**40,
        "neg": -5,
        "unicode": "h\u00e9llo \u2713",
        "tuple": (1, "x", None, (2, 3)),
        "bf16": ramp(4, torch.bfloat16).view(2, 2),
        "view": conv.view(4, 27).t()[1:20:3],
        "empty": torch.zeros(0, 3),
    })
    return ck


def same(a, b, path="root"):
    if type(a) is not type(b):
        raise AssertionError("%s: type %s vs %s" % (path, type(a), type(b)))
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            raise AssertionError("%s: keys %s vs %s" % (path, list(a.keys()), list(b.keys())))
        for k in a:
            same(a[k], b[k], "%s[%r]" % (path, k))
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            raise AssertionError("%s: length" % path)
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (path, i))
    elif isinstance(a, torch.Tensor):
        if a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b):
            raise AssertionError("%s: tensor %s %s vs %s %s" % (path, a.dtype, a.shape, b.dtype, b.shape))
    elif isinstance(a, float):
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            raise AssertionError("%s: %r vs %r" % (path, a, b))
    elif a != b:
        raise AssertionError("%s: %r vs %r" % (path, a, b))


def check(path, with_floats):
    if with_floats and torch.__version__.startswith("1."):
        # 1.x weights_only cannot read floats at all (not even its own);
        # check the full unpickler instead (cyolo's file: trusted here).
        got = torch.load(path)
    else:
        got = torch.load(path, weights_only=True)
    same(got, expected_ckpt(with_floats))
    # the view keeps sharing storage with the conv weight after loading
    if torch.__version__ >= "2":
        assert got["view"].untyped_storage().data_ptr() == got["model"]["model.0.conv.weight"].untyped_storage().data_ptr()
    if torch.__version__ >= "2":
        same(torch.load(path, weights_only=True, mmap=True), expected_ckpt(with_floats))
    print("torch %s: %s loads and matches" % (torch.__version__, path))


def resave(src, dst):
    obj = torch.load(src, weights_only=True)
    torch.save(obj, dst)
    print("torch %s: read %s with weights_only=True, saved %s" % (torch.__version__, src, dst))


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--resave":
        resave(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 2 and sys.argv[1] in ("--check", "--check-nofloat"):
        check(sys.argv[2], sys.argv[1] == "--check")
    else:
        make(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "pt"))
