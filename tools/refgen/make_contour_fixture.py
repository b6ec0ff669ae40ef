#!/usr/bin/env python3
"""tests/fixtures/mask_contour/: OpenCV's findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE) and Ultralytics
8.4.190's masks2segments (strategy "all", merge_multi_segment) on fixed masks, for tests/test_mask_contour.c.

    /work/venv-ul/bin/python tools/refgen/make_contour_fixture.py [OUT_DIR]

masks.npy [K,H,W] float32 0/1: random blobs (ellipses, boxes, rings with components inside their holes,
lines, lone pixels, shapes on the border), an empty and a full mask.
contours.json: per mask, cv2's contours (lists of [x, y]) in cv2's order, and masks2segments' points.
Development only: CI has no Python.
"""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from ultralytics.utils import ops

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/mask_contour")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(8)
K, H, W = 40, 24, 32
yy, xx = np.mgrid[0:H, 0:W]
masks = np.zeros((K, H, W), np.uint8)
for k in range(K):
    m = masks[k]
    kind = k % 8
    if k == 0:
        continue  # empty
    if k == 1:
        m[:] = 1  # full
        continue
    for _ in range(int(rng.integers(1, 5))):
        cy, cx = rng.uniform(-2, H + 2), rng.uniform(-2, W + 2)
        ry, rx = rng.uniform(1, 8), rng.uniform(1, 10)
        e = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        if kind in (0, 1, 2):
            m[e] = 1
        elif kind == 3:  # rings with something inside the hole
            inner = ((yy - cy) / (ry * 0.6)) ** 2 + ((xx - cx) / (rx * 0.6)) ** 2 <= 1
            m[e & ~inner] = 1
            m[int(np.clip(cy, 0, H - 1)), int(np.clip(cx, 0, W - 1))] = 1
        elif kind == 4:  # lone pixels and short lines
            y, x = int(rng.integers(H)), int(rng.integers(W))
            m[y, x] = 1
            cv2.line(m, (x, y), (int(rng.integers(W)), int(rng.integers(H))), 1, 1)
        elif kind == 5:  # boxes
            y0, x0 = int(rng.integers(H)), int(rng.integers(W))
            m[y0:y0 + int(rng.integers(1, 9)), x0:x0 + int(rng.integers(1, 12))] = 1
        else:  # random noise, thresholded
            m[rng.uniform(size=(H, W)) < (0.35 if kind == 6 else 0.6)] = 1
            break
res = []
for k in range(K):
    c = cv2.findContours(masks[k].copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
    seg = ops.masks2segments(masks[k][None])[0]
    res.append({"contours": [x.reshape(-1, 2).tolist() for x in c], "segment": seg.astype(int).tolist()})
np.save(out / "masks.npy", masks.astype(np.float32))
(out / "contours.json").write_text(json.dumps(res))
print("masks", K, "contours per mask", [len(r["contours"]) for r in res])
