#!/usr/bin/env python3
"""tests/fixtures/aug/hsv_cv2.npy: Ultralytics' RandomHSV (8.4.37, on OpenCV's uint8
cvtColor) applied to one RGB image with fixed gains, for tests/test_augment.c.

    /work/venv-ul/bin/python tools/refgen/make_hsv_fixture.py [OUT_DIR]

float32 [1 + len(GAINS), 40, 70, 3], RGB values 0..255: [0] the input (random pixels, with
runs of one colour that cross column 64), [1 + k] the output for GAINS[k] (r_h, r_s, r_v:
the values np.random.uniform(-1, 1, 3) * [hgain, sgain, vgain] would give). The width, 70,
puts 64 columns in OpenCV's vector loop (truncating) and 6 in its scalar loop (rounding).
Development only: CI has no Python.
"""
import sys
from pathlib import Path

import numpy as np
from ultralytics.data.augment import RandomHSV

GAINS = [(0.01, 0.5, -0.3), (-0.012, -0.6, 0.35), (0.0, 0.0, 0.0)]
out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/aug")
rng = np.random.default_rng(7)
rgb = rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)
rgb[5, 50:70] = (200, 100, 50)
rgb[6, 60:68] = (114, 114, 114)
rgb[7, :] = (255, 255, 255)
res = [rgb.astype(np.float32)]
hsv = RandomHSV(0.015, 0.7, 0.4)
for g in GAINS:
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    np.random.uniform = lambda lo, hi, n, g=g: np.array(g) / np.array([0.015, 0.7, 0.4])
    hsv({"img": bgr})
    res.append(bgr[..., ::-1].astype(np.float32))
np.save(out / "hsv_cv2.npy", np.stack(res))
print(out / "hsv_cv2.npy", np.stack(res).shape)
