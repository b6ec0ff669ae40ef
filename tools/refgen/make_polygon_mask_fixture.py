#!/usr/bin/env python3
"""tests/fixtures/seg/{masks,resample}.npy: Ultralytics' own polygon rasterisation
(data/utils.py polygons2masks, polygons2masks_overlap: cv2.fillPoly on int32-truncated
points, then cv2.resize INTER_LINEAR) and utils/ops.py resample_segments, on random
polygons, for tests/test_polygon_mask.c.

    /work/venv-ul/bin/python tools/refgen/make_polygon_mask_fixture.py [OUT_DIR [REPEATS SEED]]

REPEATS > 1 (and another SEED) makes a bigger set for development, for
CYOLO_SEG_FIXTURE_DIR=OUT_DIR build/tests/test_polygon_mask; the committed set is the default.

Both files are one float32 stream (the .npy reader is float32 only), case after case:

masks.npy:   overlap h w ratio color npoly, then per polygon npts x0 y0 x1 y1 ...
             (float32 pixel coordinates, as Ultralytics' segments are), then
             overlap == 0: polygons2masks(...) [npoly][h // ratio][w // ratio]
             overlap == 1: the sort index [npoly], then the index mask [h // ratio][w // ratio]
             each mask stream run-length coded: nruns, then nruns (value, length) pairs.
resample.npy: n npts x0 y0 ..., then resample_segments([s], n)[0] as [n or npts][2].

Cases: convex, concave (stars), self-intersecting (random order), crossing the image
border, entirely outside, sub-pixel, collinear, 1000-point resampled outlines; sizes that
are and are not multiples of the ratio; ratio 1, 2 (OpenCV turns an exact 2x linear
downscale into INTER_AREA) and 4; color 1 and 255. Overlap cases avoid equal areas:
numpy's argsort (unstable, SIMD) orders ties in no documented way. Development only: CI
has no Python.
"""
import sys
from pathlib import Path

import numpy as np
from ultralytics.data.utils import polygons2masks, polygons2masks_overlap
from ultralytics.utils.ops import resample_segments

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/seg")
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 2024)


def star(cx, cy, r, n, jag=0.5):
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    rr = r * (1 - jag * rng.uniform(0, 1, n))
    return np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], 1).astype(np.float32)


def scribble(cx, cy, r, n):
    return (np.array([cx, cy]) + rng.uniform(-r, r, (n, 2))).astype(np.float32)


def outline(cx, cy, r, n=1000):
    s = star(cx, cy, r, 24, 0.3)
    return resample_segments([s], n)[0].astype(np.float32)


def polys_for(h, w, kind):
    m = max(h, w)
    if kind == "mixed":
        return [star(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, m / 3), int(rng.integers(3, 30)))
                for _ in range(int(rng.integers(1, 6)))]
    if kind == "convex":
        return [star(w / 2, h / 2, m / 3, 12, 0.0), star(w / 4, h / 3, m / 7, 5, 0.0)]
    if kind == "cross":
        return [star(0, h / 2, m / 2, 9), star(w, h, m / 3, 7), scribble(w / 2, -5, m / 2, 6),
                star(w * 1.5, h / 2, m / 3, 8)]  # the last one entirely outside
    if kind == "twisted":
        return [scribble(w / 2, h / 2, m / 2.5, int(rng.integers(4, 12))) for _ in range(3)]
    if kind == "tiny":
        return [star(w / 3, h / 3, 0.4, 3), star(w / 2 + 0.3, h / 2, 1.2, 4), scribble(2.2, 3.7, 0.45, 5),
                np.array([[1.5, 1.5], [10.5, 1.5], [20.5, 1.7]], np.float32),  # nearly collinear
                np.array([[3.0, 5.0], [w - 3.0, 5.0], [w / 2, 5.0]], np.float32)]  # a horizontal line
    if kind == "outline":
        return [outline(w / 2, h / 2, m / 3), outline(w / 3, h / 2, m / 5)]
    raise ValueError(kind)


def rle(a):
    a = np.asarray(a).reshape(-1).astype(np.int64)
    if a.size == 0:
        return [0.0]
    cut = np.flatnonzero(np.diff(a)) + 1
    starts = np.concatenate([[0], cut])
    lens = np.diff(np.concatenate([starts, [a.size]]))
    res = [float(len(starts))]
    for s, n in zip(starts, lens):
        res += [float(a[s]), float(n)]
    return res


def no_ties(h, w, ratio, polys):
    areas = [polygons2masks((h, w), [p], 1, ratio)[0].sum() for p in polys]
    return len(set(areas)) == len(areas)


stream, n_cases = [], 0
# (h, w, ratio): output widths that end inside and after OpenCV's 16- and 8-column vector
# loops (40, 39, 13, 50), an exact 2x shrink (INTER_AREA) with and without a scalar tail
# (24, 35), 2x that is not exact (63x81), ratio 3, and 640x640 at the default ratio 4
SIZES = [(64, 64, 1), (37, 53, 1), (101, 67, 1), (640, 640, 4), (200, 156, 4), (37, 53, 4), (150, 203, 4),
         (64, 48, 2), (50, 70, 2), (63, 81, 2), (33, 47, 3)]
KINDS = ["mixed", "convex", "cross", "twisted", "tiny", "outline"]
for h, w, ratio in SIZES * REPEATS:
    for kind in KINDS:
        # keeps the committed fixture small (1000-point outlines are most of it)
        if (h, w) == (640, 640) and kind not in ("outline", "mixed", "cross"):
            continue
        if kind == "outline" and REPEATS == 1 and (h, w, ratio) not in ((640, 640, 4), (101, 67, 1), (63, 81, 2)):
            continue
        for overlap in (0, 1):
            for _ in range(20):
                polys = polys_for(h, w, kind)
                if not overlap or no_ties(h, w, ratio, polys):
                    break
            else:
                continue
            color = 255 if (not overlap and (n_cases % 2)) else 1
            stream += [overlap, h, w, ratio, color, len(polys)]
            for p in polys:
                stream += [len(p)] + p.reshape(-1).tolist()
            if overlap:
                mask, index = polygons2masks_overlap((h, w), polys, downsample_ratio=ratio)
                assert mask.dtype == np.uint8
                stream += index.astype(np.float64).tolist() + rle(mask)
            else:
                masks = polygons2masks((h, w), polys, color, downsample_ratio=ratio)
                stream += rle(masks)
            n_cases += 1

res, n_res = [], 0
for npts, n in [(3, 10), (5, 1000), (17, 100), (100, 100), (150, 100), (4, 4), (7, 8), (6, 8), (40, 39), (999, 1000)]:
    s = star(50, 40, 30, npts, 0.6)
    r = resample_segments([s.copy()], n)[0]
    res += [n, npts] + s.reshape(-1).tolist() + np.asarray(r, np.float32).reshape(-1).tolist()
    n_res += 1

out.mkdir(parents=True, exist_ok=True)
np.save(out / "masks.npy", np.asarray(stream, np.float32))
np.save(out / "resample.npy", np.asarray(res, np.float32))
print(out / "masks.npy", n_cases, "cases", len(stream), "floats;", out / "resample.npy", n_res, "cases", len(res))
