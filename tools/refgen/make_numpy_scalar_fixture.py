#!/usr/bin/env python3
"""tests/fixtures/pt/numpy_scalars.pt: numpy number scalars as Ultralytics' checkpoints
carry them (an optimizer group's lr set by np.interp during warmup is a numpy.float64),
written by torch.save (pickle protocol 2: numpy.core.multiarray.scalar(numpy.dtype(...),
_codecs.encode(text, 'latin1'))).

    /work/venv-ul/bin/python tools/refgen/make_numpy_scalar_fixture.py [OUT_DIR]

tests/test_pt_ultralytics.c asserts the values below. Development only: CI has no Python.
"""
import sys
from pathlib import Path

import numpy as np
import torch

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/pt")
ck = {
    "epoch": 0,
    "optimizer": {"param_groups": [{"lr": np.float64(0.00019), "betas": (0.9, 0.999)}]},
    "i64": np.int64(-5),
    "i16": np.int16(-2),
    "f32": np.float32(1.5),
    "b": np.bool_(True),
    "u8": np.uint8(200),
}
torch.save(ck, out / "numpy_scalars.pt")
print(out / "numpy_scalars.pt")
