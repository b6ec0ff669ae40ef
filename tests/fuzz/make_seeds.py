#!/usr/bin/env python3
"""Seed corpus for tests/fuzz/fuzz_pt.c, small files made by real torch.save and pickle:

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tests/fuzz/make_seeds.py [OUT_DIR]   (default tests/fuzz/corpus)

  p<N>_plain.pkl      data.pkl of torch.save(nested plain data with tensors, views), protocols 2-5
  p<N>_modules.pkl    data.pkl of torch.save({"model": a tiny Ultralytics DetectionModel}), protocols 2 and 4
  conv.pkl            data.pkl of one ultralytics Conv module
  py<N>_misc.pkl      pickle.dumps of sets, frozensets, bytes, bytearray, torch.Size-free tuples, a namespace
  small_<name>.pt     whole zip checkpoints (torch.save), for the container code
Development only."""
import collections
import io
import os
import pickle
import sys
import types
import zipfile
from pathlib import Path

import torch

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent / "corpus")

MINI = """
nc: 2
reg_max: 4
backbone:
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
  - [-1, 1, Conv, [8, 3, 2]]
head:
  - [[0, 1, 2], 1, Detect, [nc]]
"""


def pkl_of(obj, protocol):
    buf = io.BytesIO()
    torch.save(obj, buf, pickle_protocol=protocol)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0])


def main():
    from ultralytics.nn.modules import Conv
    from ultralytics.nn.tasks import DetectionModel

    OUT.mkdir(parents=True, exist_ok=True)
    base = torch.arange(12, dtype=torch.float32).view(3, 4)
    plain = {"epoch": 3, "names": {0: "a", 1: "b"}, "t": base, "view": base.t()[1:], "half": base.half()[1],
             "od": collections.OrderedDict([("x", torch.tensor(7))]), "misc": [None, True, 1.5, "s", (1, 2)]}
    for p in (2, 3, 4, 5):
        (OUT / f"p{p}_plain.pkl").write_bytes(pkl_of(plain, p))
    cwd = os.getcwd()
    os.chdir("/tmp")
    Path("/tmp/seed-mini.yaml").write_text(MINI)
    model = DetectionModel("seed-mini.yaml", verbose=False).half()
    os.chdir(cwd)
    for p in (2, 4):
        (OUT / f"p{p}_modules.pkl").write_bytes(pkl_of({"model": model, "ema": None}, p))
    (OUT / "conv.pkl").write_bytes(pkl_of(Conv(3, 4), 2))
    misc = {"set": {1, 2}, "frozen": frozenset(["a"]), "ns": types.SimpleNamespace(a=1), "neg": -(2**40)}
    for p in (2, 4, 5):
        if p >= 3:  # protocol 2 pickles bytes through _codecs.encode, which no checkpoint needs
            misc["bytes"] = b"\x00\x01"
        if p >= 5:  # before protocol 5 bytearray is a call of builtins.bytearray
            misc["ba"] = bytearray(b"xy")
        (OUT / f"py{p}_misc.pkl").write_bytes(pickle.dumps(misc, protocol=p))
    for name, obj in (("state_dict", torch.nn.Conv2d(2, 2, 1).state_dict()), ("plain", plain)):
        buf = io.BytesIO()
        torch.save(obj, buf)
        (OUT / f"small_{name}.pt").write_bytes(buf.getvalue())
    print("seeds in", OUT, sorted(p.name for p in OUT.iterdir()))


if __name__ == "__main__":
    main()
