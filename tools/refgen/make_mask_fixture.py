#!/usr/bin/env python3
"""tests/fixtures/seg_metrics/: Ultralytics 8.4.190's mask ops and segmentation metrics on fixed random
inputs, for tests/test_mask_ops.c and tests/test_seg_metrics.c.

    /work/venv-ul/bin/python tools/refgen/make_mask_fixture.py [OUT_DIR]

All arrays float32 .npy (binary masks as 0/1).
Ops (3 masks, prototypes 12x20, nm 8, letterboxed input 48x80):
  op_proto [8,12,20], op_coef [3,8], op_boxes [3,4] (xyxy in 48x80 px, some past the borders)
  op_crop_in [3,12,20], op_crop_boxes [3,4], op_crop_out [3,12,20]       crop_mask
  op_pm [3,12,20], op_pm_up [3,48,80]                                       process_mask(upsample=False/True)
  op_native_<h>x<w> [3,h,w], op_native_boxes_<h>x<w> [3,4]                  process_mask_native, f = 4, 2, 1
  op_logits [3,12,20]                                                       masks_in @ protos
  op_scale_<case> [3,h,w]                                                   scale_masks of op_logits (float)
  op_scale_bin [3,37,61]                                                    scale_masks(op_pm).byte()
  op_iou_a [5,240], op_iou_b [7,240], op_iou [5,7]                          mask_iou
End to end (SegmentationValidator.update_metrics + SegmentMetrics; 5 images 64x96, prototypes 16x24, nc 3):
  e2e_proto [5,8,16,24]; e2e_pred [P,15] (image, x1, y1, x2, y2, conf, cls, coef[8]) sorted by conf per image
  e2e_gt [N,6] (image, cls, x1, y1, x2, y2 in 64x96 px as _prepare_batch makes them)
  e2e_overlap [5,16,24] (index masks, overlap_mask=True), e2e_inst [N,24,36] (overlap_mask=False)
  e2e_inst_resized [N,16,24] (the validator's gt masks for the overlap_mask=False run)
  seg_metrics.json: per run (overlap / instance / native) tp, tp_m, native gt-mask areas, results_dict.
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
from ultralytics.utils.metrics import SegmentMetrics, mask_iou

out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "tests/fixtures/seg_metrics")
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(2024)
T = torch.from_numpy


def save(name, a):
    np.save(out / f"{name}.npy", np.ascontiguousarray(np.asarray(a, dtype=np.float32)))


# ---- ops ----------------------------------------------------------------
NM, MH, MW, N = 8, 12, 20, 3
proto = rng.standard_normal((NM, MH, MW)).astype(np.float32)
coef = rng.standard_normal((N, NM)).astype(np.float32)
boxes = np.array([[-5.3, 3.7, 30.5, 40.25], [40.0, -2.0, 90.0, 20.5], [0.0, 0.0, 80.0, 48.0]], np.float32)
save("op_proto", proto), save("op_coef", coef), save("op_boxes", boxes)
crop_in = (rng.random((N, MH, MW)) > 0.3).astype(np.uint8)
crop_boxes = np.array([[-1.0, 2.5, 7.5, 11.0], [9.5, 5.5, 9.75, 9.0], [2.25, -3.0, 25.0, 30.0]], np.float32)
save("op_crop_in", crop_in), save("op_crop_boxes", crop_boxes)
save("op_crop_out", ops.crop_mask(T(crop_in.copy()), T(crop_boxes)).numpy())
save("op_logits", (T(coef) @ T(proto).view(NM, -1)).view(-1, MH, MW).numpy())
pm = ops.process_mask(T(proto), T(coef), T(boxes), (4 * MH, 4 * MW), upsample=False)
save("op_pm", pm.numpy())
save("op_pm_up", ops.process_mask(T(proto), T(coef), T(boxes), (4 * MH, 4 * MW), upsample=True).numpy())
for h, w in ((37, 61), (22, 40), (20, 40)):  # f = 4, 2, 1
    nb = np.stack([rng.uniform(-3, w / 2, N), rng.uniform(-3, h / 2, N), rng.uniform(w / 2, w + 3, N),
                   rng.uniform(h / 2, h + 3, N)], 1).astype(np.float32)
    save(f"op_native_boxes_{h}x{w}", nb)
    save(f"op_native_{h}x{w}", ops.process_mask_native(T(proto), T(coef), T(nb), (h, w)).numpy())
logits = (T(coef) @ T(proto).view(NM, -1)).view(1, -1, MH, MW)
save("op_scale_auto", ops.scale_masks(logits, (37, 61))[0].numpy())  # letterbox from sizes
save("op_scale_rp", ops.scale_masks(logits, (25, 51), ratio_pad=((0.4, 0.4), (0.0, 0.9)))[0].numpy())
save("op_scale_nopad", ops.scale_masks(logits, (30, 33), padding=False)[0].numpy())
save("op_scale_bin", ops.scale_masks(pm[None].float(), (37, 61))[0].byte().numpy())
ia = (rng.random((5, 240)) > 0.5).astype(np.float32)
ia[4] = 0  # an empty gt mask
ib = (rng.random((7, 240)) > 0.6).astype(np.float32)
ib[2] = ia[1]  # an exact match
save("op_iou_a", ia), save("op_iou_b", ib), save("op_iou", mask_iou(T(ia), T(ib)).numpy())

# ---- end to end ------------------------------------------------------------
B, H, W, MH2, MW2, NC = 5, 64, 96, 16, 24, 3
IH, IW = 24, 36  # instance masks of the overlap_mask=False run: resized to 16x24 by the validator
NGT = [3, 4, 0, 2, 3]  # image 2: no labels; image 4: no predictions


def ellipse(res_h, res_w, e):
    cy, cx, ry, rx = e
    y = (np.arange(res_h) + 0.5) / res_h
    x = (np.arange(res_w) + 0.5) / res_w
    return ((((y[:, None] - cy) / ry) ** 2 + ((x[None] - cx) / rx) ** 2) <= 1).astype(np.float32)


protos = np.zeros((B, NM, MH2, MW2), np.float32)
overlap = np.zeros((B, MH2, MW2), np.float32)
inst, gt_rows, pred_rows, gcls, gbox, bidx = [], [], [], [], [], []
for b in range(B):
    protos[b] = rng.normal(0, 1.0, (NM, MH2, MW2))
    for k in range(NGT[b]):
        e = (rng.uniform(0.15, 0.85), rng.uniform(0.1, 0.95), rng.uniform(0.12, 0.4), rng.uniform(0.08, 0.3))
        if b == 1 and k == 0:
            e = (0.5, 0.02, 0.3, 0.2)  # crosses the left border
        c = int(rng.integers(0, NC))
        m16 = ellipse(MH2, MW2, e)
        overlap[b][m16 > 0] = k + 1  # later instances cover earlier ones
        inst.append(ellipse(IH, IW, e))
        x1, x2 = max(e[1] - e[3], 0.0), min(e[1] + e[3], 1.0)
        y1, y2 = max(e[0] - e[2], 0.0), min(e[0] + e[2], 1.0)
        gcls.append(c), gbox.append([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]), bidx.append(b)
        protos[b, k] = 3.0 * m16 - 1.5 + rng.normal(0, 0.8, (MH2, MW2))
        if b == 4:
            continue
        for _ in range(int(rng.integers(1, 4))):  # 1-3 predictions per label
            co = rng.normal(0, 0.15, NM)
            co[k] = rng.uniform(0.6, 1.2)
            j = rng.normal(0, 0.06, 4) * [W, H, W, H]
            bx = np.array([x1 * W, y1 * H, x2 * W, y2 * H]) + j
            cc = c if rng.random() > 0.15 else int(rng.integers(0, NC))
            pred_rows.append([b, *bx, rng.uniform(0.05, 0.99), cc, *co])
    if b != 4:
        for _ in range(2):  # false positives
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            bx = [cx - 15, cy - 10, cx + 15, cy + 10]
            pred_rows.append([b, *bx, rng.uniform(0.05, 0.9), int(rng.integers(0, NC)), *rng.normal(0, 0.6, NM)])
pred = np.array(pred_rows, np.float32)
pred = pred[np.lexsort((-pred[:, 5], pred[:, 0]))]  # per image, conf descending (NMS order)
inst = np.stack(inst).astype(np.float32)
save("e2e_proto", protos), save("e2e_pred", pred), save("e2e_overlap", overlap), save("e2e_inst", inst)


def run(overlap_mask, process):
    v = SegmentationValidator.__new__(SegmentationValidator)
    v.args = SimpleNamespace(overlap_mask=overlap_mask, plots=False, save_json=False, save_txt=False,
                             single_cls=False, conf=0.001, visualize=False)
    v.device, v.iouv, v.niou, v.seen = torch.device("cpu"), torch.linspace(0.5, 0.95, 10), 10, 0
    v.is_custom_json, v.build_gdict, v.process = False, False, process
    v.metrics = SegmentMetrics(names={0: "a", 1: "b", 2: "c"})
    batch = {"img": torch.zeros(B, 3, H, W), "batch_idx": torch.tensor(bidx, dtype=torch.float32),
             "cls": torch.tensor(gcls, dtype=torch.float32)[:, None],
             "bboxes": torch.tensor(np.array(gbox), dtype=torch.float32),
             "ori_shape": [(H, W)] * B, "ratio_pad": [((1.0, 1.0), (0.0, 0.0))] * B,
             "im_file": [f"im{b}.jpg" for b in range(B)],
             "masks": T(overlap.copy()) if overlap_mask else T(inst.copy())}
    preds = []
    imgsz = [4 * MH2, 4 * MW2]
    for b in range(B):
        p = T(pred[pred[:, 0] == b])
        d = {"bboxes": p[:, 1:5].clone(), "conf": p[:, 5].clone(), "cls": p[:, 6].clone()}
        d["masks"] = v.process(T(protos[b]), p[:, 7:].clone(), d["bboxes"], shape=imgsz)
        preds.append(d)
    gt_masks = [v._prepare_batch(b, batch)["masks"] for b in range(B)]
    v.update_metrics(preds, batch)
    stats = v.metrics.process()
    res = {k: float(x) for k, x in v.metrics.results_dict.items()}
    res["keys"] = v.metrics.keys
    res["tp"] = stats["tp"].astype(int).tolist()
    res["tp_m"] = stats["tp_m"].astype(int).tolist()
    res["gt_mask_area"] = [float(m.sum()) for g in gt_masks for m in g]
    return res, gt_masks, [v._prepare_batch(b, batch)["bboxes"] for b in range(B)]


runs = {}
runs["overlap"], _, gtb = run(True, ops.process_mask)
runs["instance"], gm, _ = run(False, ops.process_mask)
runs["native"], _, _ = run(True, ops.process_mask_native)
save("e2e_inst_resized", torch.cat([g for g in gm if len(g)]).numpy())
save("e2e_gt", np.concatenate([np.concatenate([np.full((len(g), 1), b), np.array(gcls)[np.array(bidx) == b, None],
                                               g.numpy()], 1) for b, g in enumerate(gtb)]))
(out / "seg_metrics.json").write_text(json.dumps({"ultralytics": "8.4.190", "nc": NC, "imgsz": [H, W],
                                                  "runs": runs}, indent=1) + "\n")
print({k: {m: r[m] for m in r if m.startswith(("metrics", "fitness"))} for k, r in runs.items()})
