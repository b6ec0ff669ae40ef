#!/usr/bin/env python3
"""tests/fixtures/aug/mosaic_*.npy: Ultralytics' Mosaic (4 tiles) + RandomPerspective + RandomFlip
(8.4.37, OpenCV's warpAffine) with fixed draws, for tests/test_augment.c.

    /work/venv-ul/bin/python tools/refgen/make_mosaic_fixture.py [OUT_DIR]

imgsz 64 (a 128x128 canvas, border -32). Four tiles as load_image leaves them (long side 64,
random pixels with flat patches where the boxes are), three boxes each. All float32:
  mosaic_tiles.npy  [4, 64, 64, 3] RGB 0..255; tile t is the top-left TILE_HW[t] of its slab
  mosaic_labels.npy [4, 3, 5]      cls, cx, cy, w, h (normalised, as a label file)
  mosaic_cases.npy  [K, 11]        yc, xc, persp_x, persp_y, angle, scale, shear_x, shear_y,
                                   trans_x, trans_y, flip: the draws in Ultralytics' order
  mosaic_out.npy    [K, 64, 64, 3] RGB after the three transforms
  mosaic_boxes.npy  [K, 12, 6]     valid, cls, x1, y1, x2, y2 (pixels of the 64x64 output)
Development only: CI has no Python.
"""
import random
import sys
from pathlib import Path

import numpy as np
from ultralytics.data.augment import Mosaic, RandomFlip, RandomPerspective
from ultralytics.utils.instance import Instances

S = 64
TILE_HW = [(48, 64), (64, 40), (64, 64), (56, 64)]
CASES = [  # yc, xc, px, py, angle, scale, shx, shy, tx, ty, flip
    (64, 64, 0, 0, 0, 1.0, 0, 0, 0.5, 0.5, 0),
    (40, 90, 0, 0, 0, 1.3, 0, 0, 0.45, 0.58, 0),
    (85, 37, 0, 0, 0, 0.62, 0, 0, 0.55, 0.41, 1),
    (70, 52, 0, 0, 17.5, 1.1, 3.0, -2.0, 0.52, 0.47, 0),
    (33, 94, 0, 0, -8.25, 0.81, -1.5, 4.0, 0.6, 0.4, 1),
    (94, 94, 0, 0, 0, 1.5, 0, 0, 0.5, 0.5, 0),
]

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/aug")
rng = np.random.default_rng(11)
tiles = np.zeros((4, S, S, 3), np.uint8)
labels = np.zeros((4, 3, 5), np.float32)
for t, (h, w) in enumerate(TILE_HW):
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    for k in range(3):
        bw, bh = rng.uniform(0.15, 0.5), rng.uniform(0.15, 0.5)
        cx, cy = rng.uniform(bw / 2, 1 - bw / 2), rng.uniform(bh / 2, 1 - bh / 2)
        labels[t, k] = (rng.integers(0, 6), cx, cy, bw, bh)
        img[int((cy - bh / 2) * h):int((cy + bh / 2) * h), int((cx - bw / 2) * w):int((cx + bw / 2) * w)] = \
            rng.integers(0, 256, 3)
    tiles[t, :h, :w] = img


class Data:  # what Mosaic asks of a dataset when the partners are given
    cache = "ram"


def tile_labels(t):
    h, w = TILE_HW[t]
    return {"im_file": f"tile{t}", "ori_shape": (h, w), "resized_shape": (h, w),
            "img": np.ascontiguousarray(tiles[t, :h, :w, ::-1]), "cls": labels[t, :, :1].copy(),
            "instances": Instances(labels[t, :, 1:].copy(), segments=np.zeros((0, 1000, 2), np.float32),
                                   bbox_format="xywh", normalized=True)}


outs, boxes = [], np.zeros((len(CASES), 12, 6), np.float32)
uniform = random.uniform
for c, (yc, xc, px, py, ang, sc, shx, shy, tx, ty, flip) in enumerate(CASES):
    lab = tile_labels(0)
    lab["mix_labels"] = [tile_labels(t) for t in (1, 2, 3)]
    draws = iter([yc, xc, px, py, ang, sc, shx, shy, tx, ty])
    random.uniform = lambda a, b: next(draws)
    m = Mosaic(Data(), imgsz=S, p=1.0, n=4)._mosaic4(lab)
    m.pop("mix_labels", None)
    r = RandomPerspective(degrees=20, translate=0.1, scale=0.5, shear=5)(m)
    random.uniform = uniform
    if flip:
        r = RandomFlip(p=1.0, direction="horizontal")(r)
    inst = r["instances"]
    inst.convert_bbox("xyxy")
    assert not inst.normalized and len(inst) <= 12
    boxes[c, :len(inst), 0] = 1
    boxes[c, :len(inst), 1] = r["cls"].ravel()
    boxes[c, :len(inst), 2:] = inst.bboxes
    outs.append(r["img"][..., ::-1].astype(np.float32))
    print(f"case {c}: {len(inst)} boxes")
np.save(out / "mosaic_tiles.npy", tiles.astype(np.float32))
np.save(out / "mosaic_labels.npy", labels)
np.save(out / "mosaic_cases.npy", np.array(CASES, np.float32))
np.save(out / "mosaic_out.npy", np.stack(outs))
np.save(out / "mosaic_boxes.npy", boxes)
