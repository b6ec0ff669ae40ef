#!/usr/bin/env python3
"""tests/fixtures/seg_val/: Ultralytics 8.4.190's SegmentationValidator on one hand-built batch and fixed
model outputs, for tests/test_seg_val.c (cy_val_stats, cy_nms_extra).

    /work/venv-ul/bin/python tools/refgen/dump_seg_val.py [OUT_DIR]

One batch of B=3 letterboxed images 64x96 (prototypes 16x24, nm 4, nc 3), each with its own original
shape and letterbox (ratio, pad). All arrays float32 .npy:
  proto [3,4,16,24]            prototypes
  decoded [3,4+3+4,A]          a non-end2end model's decoded output (xywh px, sigmoid scores, coefficients)
  e2e [3,K,6+4]                an end2end model's rows (x1 y1 x2 y2 score class coef), best first
  targets [N,6]                batch_idx cls cx cy w h (normalised to 64x96), rows grouped by image
  masks_overlap [3,16,24]      index masks (value k+1 = the image's k-th target row)
  masks_inst [N,16,24]         0/1 per target row (overlap_mask=False)
  ratio_pad [3,4]              ratio_h ratio_w pad_w pad_h; ori_shape [3,2] h w
  nms_<b> [n,6+4]              postprocess's NMS rows of image b (nc=3, multi_label=True, extra columns kept)
seg_val.json: per run (nms_overlap, nms_instance, e2e_overlap) results_dict and the per-image row counts.
Development only: CI has no Python.
"""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from ultralytics.models.yolo.segment.val import SegmentationValidator
from ultralytics.utils import ops
from ultralytics.utils.metrics import SegmentMetrics

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/seg_val")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(190)
B, H, W, MH, MW, NM, NC = 3, 64, 96, 16, 24, 4, 3
ORI = [(128, 192), (100, 150), (64, 80)]  # original shapes: ratio 0.5, 0.64 (pad), 1.0 (side pad)
RP = []
for h0, w0 in ORI:
    r = min(H / h0, W / w0)
    nh, nw = round(h0 * r), round(w0 * r)
    RP.append((r, r, round((W - nw) / 2 - 0.1), round((H - nh) / 2 - 0.1)))


def save(name, a):
    np.save(out / f"{name}.npy", np.ascontiguousarray(a, dtype=np.float32))


yy, xx = np.mgrid[0:MH, 0:MW]
protos = rng.normal(0, 0.3, (B, NM, MH, MW)).astype(np.float32)
targets, overlap, inst, gts = [], np.zeros((B, MH, MW), np.float32), [], []
for b in range(B):
    n = [4, 3, 0][b] if b < 2 else 0
    ell = []
    for k in range(n):
        cy, cx = rng.uniform(3, MH - 3), rng.uniform(3, MW - 3)
        ry, rx = rng.uniform(2, 6), rng.uniform(2, 8)
        m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        if m.sum() < 4:
            m[int(cy), int(cx)] = m[int(cy) + 1, int(cx)] = True
        ell.append(m)
    order = np.argsort([-m.sum() for m in ell], kind="stable")  # the loader's area order (largest first)
    ell = [ell[i] for i in order]
    for k, m in enumerate(ell):
        overlap[b][m] = k + 1
        protos[b, k % NM][m] += 1.5 if k < NM else 0
        protos[b, k % NM][~m] -= 0.5
        ys, xs = np.nonzero(m)
        x1, y1, x2, y2 = xs.min() * 4, ys.min() * 4, (xs.max() + 1) * 4, (ys.max() + 1) * 4
        c = int(rng.integers(NC))
        targets.append([b, c, (x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H])
        inst.append(m.astype(np.float32))
        gts.append((b, c, k, (x1, y1, x2, y2)))
targets = np.array(targets, np.float32)
inst = np.stack(inst)

# predictions: jittered copies of each gt (right and wrong classes, good and poor masks) and noise
A = 48
dec = np.zeros((B, 4 + NC + NM, A), np.float32)
dec[:, 4:4 + NC] = rng.uniform(0, 0.0008, (B, NC, A))  # below conf 0.001: not candidates
for b in range(B):
    a = 0
    for (bb, c, k, (x1, y1, x2, y2)) in gts:
        if bb != b:
            continue
        for rep in range(4):
            j = rng.normal(0, 2.5 + 2 * rep, 4)
            cx, cy = (x1 + x2) / 2 + j[0], (y1 + y2) / 2 + j[1]
            w, h = max(x2 - x1 + j[2], 2), max(y2 - y1 + j[3], 2)
            dec[b, 0:4, a] = cx, cy, w, h
            cls = c if rep < 3 else (c + 1) % NC
            dec[b, 4 + cls, a] = rng.uniform(0.05, 0.95)
            dec[b, 4 + (cls + 2) % NC, a] = rng.uniform(0.001, 0.3)  # a second label (multi_label)
            coef = rng.normal(0, 0.3, NM)
            coef[k % NM] += [2.0, 1.0, 0.4, 1.5][rep]
            dec[b, 4 + NC:, a] = coef
            a += 1
    while a < A:  # background noise boxes
        dec[b, 0:4, a] = rng.uniform(10, 80), rng.uniform(8, 56), rng.uniform(4, 30), rng.uniform(4, 30)
        if rng.uniform() < 0.5:
            dec[b, 4 + int(rng.integers(NC)), a] = rng.uniform(0.001, 0.4)
        dec[b, 4 + NC:, a] = rng.normal(0, 1, NM)
        a += 1
dec = dec.astype(np.float32)

# an end2end model's rows: the best 20 (anchor, class) of the same prediction, as top-k rows
K = 20
e2e = np.zeros((B, K, 6 + NM), np.float32)
for b in range(B):
    sc = dec[b, 4:4 + NC]
    flat = np.argsort(-sc.max(0), kind="stable")[:K]
    for r, ai in enumerate(flat):
        cx, cy, w, h = dec[b, 0:4, ai]
        e2e[b, r, :4] = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        e2e[b, r, 4], e2e[b, r, 5] = sc[:, ai].max(), sc[:, ai].argmax()
        e2e[b, r, 6:] = dec[b, 4 + NC:, ai]

save("proto", protos), save("decoded", dec), save("e2e", e2e), save("targets", targets)
save("masks_overlap", overlap), save("masks_inst", inst)
save("ratio_pad", np.array([[r[0], r[1], r[2], r[3]] for r in RP])), save("ori_shape", np.array(ORI))


def run(overlap_mask, end2end):
    v = SegmentationValidator.__new__(SegmentationValidator)
    v.args = SimpleNamespace(overlap_mask=overlap_mask, plots=False, save_json=False, save_txt=False,
                             single_cls=False, conf=0.001, iou=0.7, max_det=300, agnostic_nms=False,
                             task="segment", visualize=False)
    v.device, v.iouv, v.niou, v.seen = torch.device("cpu"), torch.linspace(0.5, 0.95, 10), 10, 0
    v.is_custom_json, v.build_gdict, v.process = False, False, ops.process_mask
    v.nc, v.end2end = NC, end2end
    v.metrics = SegmentMetrics(names={0: "a", 1: "b", 2: "c"})
    batch = {"img": torch.zeros(B, 3, H, W), "batch_idx": torch.from_numpy(targets[:, 0].copy()),
             "cls": torch.from_numpy(targets[:, 1:2].copy()), "bboxes": torch.from_numpy(targets[:, 2:6].copy()),
             "ori_shape": ORI, "ratio_pad": [((r[0], r[1]), (r[2], r[3])) for r in RP],
             "im_file": [f"im{b}.jpg" for b in range(B)],
             "masks": torch.from_numpy(overlap.copy() if overlap_mask else inst.copy())}
    raw = torch.from_numpy(e2e.copy() if end2end else dec.copy())
    preds = v.postprocess([raw, torch.from_numpy(protos.copy())])
    rows = [torch.cat([p["bboxes"], p["conf"][:, None], p["cls"][:, None]], 1).numpy() for p in preds]
    v.update_metrics(preds, batch)
    v.metrics.process()
    res = {k: float(x) for k, x in v.metrics.results_dict.items()}
    res["keys"] = v.metrics.keys
    res["counts"] = [len(r) for r in rows]
    return res, rows


runs = {}
runs["nms_overlap"], rows = run(True, False)
runs["nms_instance"], _ = run(False, False)
runs["e2e_overlap"], _ = run(True, True)
# the NMS rows with their coefficients (postprocess pops them into "extra")
from ultralytics.utils import nms

for b, x in enumerate(nms.non_max_suppression(torch.from_numpy(dec.copy()), 0.001, 0.7, nc=NC, multi_label=True,
                                              max_det=300)):
    save(f"nms_{b}", x.numpy())
(out / "seg_val.json").write_text(json.dumps({"runs": runs, "nc": NC, "nm": NM}, indent=1))
for k, r in runs.items():
    print(k, {kk: round(vv, 4) for kk, vv in r.items() if isinstance(vv, float)}, r["counts"])

# predict (SegmentationPredictor.construct_result, retina_masks=False, then Results.save_txt with save_conf):
# image 0's NMS rows and prototypes, an original image of 90x150 (letterboxed to 58x96 plus 3 px top)
from ultralytics.models.yolo.segment.predict import SegmentationPredictor

sp = SegmentationPredictor.__new__(SegmentationPredictor)
sp.args, sp.model = SimpleNamespace(retina_masks=False), SimpleNamespace(names={0: "a", 1: "b", 2: "c"})
rows0 = np.load(out / "nms_0.npy")
res = sp.construct_result(torch.from_numpy(rows0.copy()), torch.zeros(1, 3, H, W), np.zeros((90, 150, 3), np.uint8),
                          "im0.jpg", torch.from_numpy(protos[0].copy()))
txt = out / "predict_0.txt"
txt.unlink(missing_ok=True)
res.save_txt(txt, save_conf=True)
save("predict_0_masks", res.masks.data.numpy())
print("predict: kept", len(res.boxes), "of", len(rows0), "lines", len(txt.read_text().splitlines()))
