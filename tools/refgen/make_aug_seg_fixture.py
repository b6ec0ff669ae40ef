#!/usr/bin/env python3
"""tests/fixtures/seg_aug/*.npy: Ultralytics 8.4.190's segment augmentations with fixed draws, for
tests/test_augment_seg.c: Mosaic (4 tiles) [+ CopyPaste flip] + RandomPerspective + RandomFlip, then
Format's masks (mask_ratio 4, overlap and not), and LetterBox(scaleup=False) as validation uses it.

    /work/venv-ul/bin/python tools/refgen/make_aug_seg_fixture.py [OUT_DIR]

imgsz 64 (a 128x128 canvas). Four tiles as load_image leaves them (long side 64, random pixels);
tile 2 has no labels, tile 0 a tiny triangle that box_candidates drops when the scale shrinks it.
Polygons are resampled to 1000 points as YOLODataset.update_labels_info does. All float32:
  seg_tiles.png   4 slabs of 64x64 stacked (256x64) RGB; tile t is the top-left TILE_HW[t] of its slab
  seg_polys.npy   [P, 31]          tile, cls, cx, cy, w, h (segments2boxes), npts, 12 x (x, y) normalised
  seg_cases.npy   [K, 12]          yc, xc, persp_x, persp_y, angle, scale, shear_x, shear_y, trans_x,
                                   trans_y, flip, copy_paste (flip mode; 0: none)
  seg_out.png     K images of 64x64 stacked, RGB after the transforms (PNG: lossless, a third of .npy)
  seg_boxes.npy   [K, 12, 6]       valid, cls, x1, y1, x2, y2 in Format's overlap order (sorted_idx)
  seg_points.npy  [K, 12, 100, 2]  every 10th polygon point, same order
  seg_mask.npy    [K, 16, 16]      polygons2masks_overlap index mask
  seg_masks1.npy  [K, 12, 16, 16]  polygons2masks (overlap_mask=False), rows in pipeline order
  lb_out.png, lb_boxes.npy, lb_points.npy, lb_mask.npy: LetterBox((48, 48), scaleup=False) of tiles 1
                                   and 2 (the second without labels), masks 12x12
Two deliberate departures, both about ties: np.argsort runs stable here (numpy 2's SIMD argsort orders
equal keys its own way, even for a few elements: CopyPaste's equal overlaps, polygons2masks_overlap's equal
areas); cyolo keeps ties in input order. And the venv's OpenCV 5.1 warps with float bilinear weights while
cyolo follows OpenCV 4's 1/32-pixel fixed point (the detect fixture's reference): warped images differ by a
few levels; polygons and masks do not depend on it.
Development only: CI has no Python.
"""
import random
import sys
from pathlib import Path

import cv2
import numpy as np
from ultralytics.data.augment import CopyPaste, LetterBox, Mosaic, RandomFlip, RandomPerspective
from ultralytics.data.utils import polygons2masks, polygons2masks_overlap
from ultralytics.utils.instance import Instances
from ultralytics.utils.ops import resample_segments, segments2boxes

_argsort = np.argsort
np.argsort = lambda a, axis=-1, kind=None, order=None, **kw: _argsort(a, axis=axis, kind="stable", order=order)

S, MAXB, MAXP = 64, 12, 12
TILE_HW = [(48, 64), (64, 40), (64, 64), (56, 64)]
NPOLY = [4, 3, 0, 3]
CASES = [  # yc, xc, px, py, angle, scale, shx, shy, tx, ty, flip, copy_paste
    (64, 64, 0, 0, 0, 1.0, 0, 0, 0.5, 0.5, 0, 0),
    (60, 75, 0, 0, 0, 1.3, 0, 0, 0.45, 0.58, 0, 0),
    (85, 37, 0, 0, 0, 0.62, 0, 0, 0.55, 0.41, 1, 0),
    (70, 52, 0, 0, 17.5, 1.1, 3.0, -2.0, 0.52, 0.47, 0, 0),
    (50, 80, 0, 0, -8.25, 0.81, -1.5, 4.0, 0.6, 0.4, 1, 0),
    (60, 70, 0, 0, 31.0, 0.7, -4.0, 2.5, 0.5, 0.55, 0, 0.5),
    (94, 94, 0, 0, 0, 1.5, 0, 0, 0.5, 0.5, 0, 1.0),
]

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/seg_aug")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(5)
tiles = np.zeros((4, S, S, 3), np.uint8)
rows = []
polys = {t: [] for t in range(4)}
for t, (h, w) in enumerate(TILE_HW):
    tiles[t, :h, :w] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    for k in range(NPOLY[t]):
        if t == 0 and k == 3:  # tiny: about 2.5 x 2.5 pixels
            c = np.array([0.3, 0.6])
            pts = c + np.array([[0, 0], [2.5 / w, 0.4 / h], [1.0 / w, 2.5 / h]])
        else:
            n = int(rng.integers(5, MAXP + 1))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            c = rng.uniform(0.25, 0.75, 2)
            rad = rng.uniform(0.08, 0.3) * rng.uniform(0.6, 1.0, n)
            pts = c + np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
        pts = np.clip(pts, 0, 1).astype(np.float32)
        box = segments2boxes([pts])[0].astype(np.float32)
        cls = int(rng.integers(0, 5))
        row = np.zeros(7 + 2 * MAXP, np.float32)
        row[:7] = (t, cls, *box, len(pts))
        row[7:7 + 2 * len(pts)] = pts.ravel()
        rows.append(row)
        polys[t].append((cls, box, pts))


class Data:  # what Mosaic asks of a dataset: its partners are tiles 1, 2, 3
    cache = "ram"

    def get_image_and_label(self, i):
        return tile_labels(i)


class FixedMosaic(Mosaic):
    def get_indexes(self):
        return [1, 2, 3]


def tile_labels(t):
    h, w = TILE_HW[t]
    p = polys[t]
    if p:
        segs = np.stack(resample_segments([x[2].copy() for x in p], n=1000), 0)
        boxes = np.stack([x[1] for x in p]).astype(np.float32)
        cls = np.array([[x[0]] for x in p], np.float32)
    else:
        segs, boxes, cls = np.zeros((0, 1000, 2), np.float32), np.zeros((0, 4), np.float32), np.zeros((0, 1), np.float32)
    return {"im_file": f"tile{t}", "ori_shape": (h, w), "resized_shape": (h, w),
            "img": np.ascontiguousarray(tiles[t, :h, :w, ::-1]), "cls": cls,
            "instances": Instances(boxes, segments=segs, bbox_format="xywh", normalized=True)}


def pack(r, ratio, mh, mw):
    """boxes, points, overlap mask and per-instance masks of a finished sample"""
    inst = r["instances"]
    inst.convert_bbox("xyxy")
    inst.denormalize(r["img"].shape[1], r["img"].shape[0])
    assert not inst.normalized and len(inst) <= MAXB
    h, w = r["img"].shape[:2]
    boxes = np.zeros((MAXB, 6), np.float32)
    points = np.zeros((MAXB, 100, 2), np.float32)
    masks1 = np.zeros((MAXB, mh, mw), np.float32)
    if len(inst):
        mask, idx = polygons2masks_overlap((h, w), inst.segments, downsample_ratio=ratio)
        m1 = polygons2masks((h, w), inst.segments, color=1, downsample_ratio=ratio)
        masks1[:len(inst)] = m1
        boxes[:len(inst), 0] = 1
        boxes[:len(inst), 1] = r["cls"].ravel()[idx]
        boxes[:len(inst), 2:] = inst.bboxes[idx]
        points[:len(inst)] = inst.segments[idx][:, ::10]
    else:
        mask = np.zeros((mh, mw), np.uint8)
    return boxes, points, mask.astype(np.float32), masks1


res = {k: [] for k in ("out", "boxes", "points", "mask", "masks1")}
uniform = random.uniform
for c, (yc, xc, px, py, ang, sc, shx, shy, tx, ty, flip, cp) in enumerate(CASES):
    draws = iter([0.0, yc, xc])  # the p gate, then the centre
    random.uniform = lambda a, b: next(draws)
    m = FixedMosaic(Data(), imgsz=S, p=1.0, n=4)(tile_labels(0))
    if cp:
        m = CopyPaste(None, p=cp, mode="flip")(m)
    draws = iter([px, py, ang, sc, shx, shy, tx, ty])
    r = RandomPerspective(degrees=20, translate=0.1, scale=0.5, shear=5, size=(S, S))(m)
    random.uniform = uniform
    if flip:
        r = RandomFlip(p=1.0, direction="horizontal")(r)
    for k, v in zip(("boxes", "points", "mask", "masks1"), pack(r, 4, S // 4, S // 4)):
        res[k].append(v)
    res["out"].append(r["img"][..., ::-1].astype(np.float32))
    seg = r["instances"].segments
    edge = int(((seg == 0) | (seg == S)).any(axis=(1, 2)).sum()) if len(seg) else 0
    print(f"case {c}: {int(res['boxes'][-1][:, 0].sum())} instances, {edge} touching the border")

lb = {k: [] for k in ("out", "boxes", "points", "mask")}
for t in (1, 2):
    r = LetterBox(new_shape=(48, 48), scaleup=False)(labels=tile_labels(t))
    b, p, mk, _ = pack(r, 4, 12, 12)
    for k, v in zip(("out", "boxes", "points", "mask"), (r["img"][..., ::-1].astype(np.float32), b, p, mk)):
        lb[k].append(v)

cv2.imwrite(str(out / "seg_tiles.png"), np.ascontiguousarray(tiles.reshape(4 * S, S, 3)[..., ::-1]))
np.save(out / "seg_polys.npy", np.stack(rows))
np.save(out / "seg_cases.npy", np.array(CASES, np.float32))
for pre, d in (("seg", res), ("lb", lb)):
    for k, v in d.items():
        v = np.stack(v)
        if k == "out":  # RGB float -> BGR uint8 for imwrite, stacked vertically
            cv2.imwrite(str(out / f"{pre}_out.png"), np.ascontiguousarray(v.astype(np.uint8).reshape(-1, v.shape[2], 3)[..., ::-1]))
        else:
            np.save(out / f"{pre}_{k}.npy", v)
