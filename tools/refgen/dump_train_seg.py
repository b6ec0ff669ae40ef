#!/usr/bin/env python3
"""Dump one PyPI Ultralytics training step of yolo26n-seg and yolov8n-seg (formula weights) as fixtures.

Measuring instrument, run by hand; outputs go to tests/fixtures/seg_train/.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_train_seg.py

Per model (nc=80): SegmentationModel, formula weights + Detect.bias_init() (tools/refgen/formula.py),
model.args = default cfg (box 7.5, cls 0.5, dfl 1.5, overlap_mask True, mask_ratio 4), model.train(),
criterion = model.init_criterion() (E2ELoss(SegmentLoss26) for yolo26n-seg, v8SegmentationLoss for
yolov8n-seg), input (3, 3, 128, 160) = formula 'input', loss.sum().backward().

The batch (the same for both models, written once as batch_*.npy):
  image 0: three polygons, one crossing the right border (clipped to the image before rasterising, as
           Ultralytics' transforms clip), one concave;
  image 1: no labels;
  image 2: two overlapping polygons.
Masks are Ultralytics' polygons2masks_overlap at mask_ratio 4 ((32, 40) per image), and each image's
label rows are reordered by its sorted index as Format does; boxes are segments2boxes of the clipped
polygons; sem_masks as Format builds them (class of the covering instance, 0 elsewhere).
Files: batch_rows.npy [N, 6] (batch_idx, cls, cx, cy, w, h normalised), batch_masks.npy [3, 32, 40] (index values, stored as float32);
<m>_loss.npy (5,) and <m>_loss_items.npy (5,) [box, seg, cls, dfl/l1, sem]; <m>_grad_norms.npy: L2 norm
of every learnable tensor's gradient in state_dict order; <m>_grads_sampled.npy: the flat gradient vector
(state_dict order, learnable tensors) at every STEP-th element; <m>_fg_mask.npy, <m>_target_gt_idx.npy
of the one-to-many assignment; manifest.json (gradient tensor names, totals). (A float64 rerun is not
possible: 8.4.190's segment loss builds float32 buffers.)
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "tests" / "fixtures" / "seg_train"
sys.path.insert(0, str(HERE))
os.environ.setdefault("YOLO_OFFLINE", "1")

H, W, RATIO = 128, 160, 4
STEP = 47
POLYS = {  # image -> [(cls, [(x, y) pixels ...])]
    0: [(0, [(20, 30), (70, 25), (80, 70), (30, 90)]),
        (17, [(120, 40), (175, 50), (170, 100), (130, 95)]),  # crosses x = 160
        (5, [(60, 80), (100, 80), (100, 120), (80, 100), (60, 120)])],  # concave
    1: [],
    2: [(2, [(10, 10), (150, 12), (140, 110), (20, 118)]),
        (2, [(50, 40), (110, 40), (105, 90), (55, 85)])],
}


def make_batch():
    from ultralytics.data.utils import polygons2masks_overlap
    from ultralytics.utils.ops import segments2boxes

    rows, masks, sems = [], [], []
    for b in range(3):
        items = POLYS[b]
        if not items:
            masks.append(np.zeros((H // RATIO, W // RATIO), np.uint8))
            sems.append(np.zeros((H // RATIO, W // RATIO), np.float32))
            continue
        segs = [np.clip(np.array(p, np.float32), [0, 0], [W, H]) for _, p in items]
        cls = np.array([c for c, _ in items], np.float32)
        m, idx = polygons2masks_overlap((H, W), segs, downsample_ratio=RATIO)
        segs = [segs[i] for i in idx]
        cls = cls[idx]
        boxes = segments2boxes(segs)  # xywh pixels
        for c, bx in zip(cls, boxes):
            rows.append([b, c, bx[0] / W, bx[1] / H, bx[2] / W, bx[3] / H])
        masks.append(m.astype(np.uint8))
        sems.append(cls[np.clip(m.astype(np.int64) - 1, 0, None)] * (m > 0))
    return np.array(rows, np.float32), np.stack(masks), np.stack(sems).astype(np.float32)


def step(name, F, rows, masks, sems, dtype):
    import torch
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import SegmentationModel

    torch.set_default_dtype(dtype)  # the loss makes its buffers in the default dtype
    model = SegmentationModel(f"{name}.yaml", nc=80, verbose=False)
    F.apply_formula(model, bias_init=True)
    model.args = get_cfg()
    model = model.to(dtype)
    model.train()
    crit = model.init_criterion()
    captured = {}
    assigner = crit.one2many.assigner if hasattr(crit, "one2many") else crit.assigner

    def hook(m, args, out):
        if "fg" not in captured:
            captured["fg"] = out[3].detach().to(torch.uint8).numpy()
            captured["gt_idx"] = out[4].detach().to(torch.int32).numpy()

    assigner.register_forward_hook(hook)
    x = torch.from_numpy(F.make_input((3, 3, H, W))).to(dtype)
    batch = {"batch_idx": torch.from_numpy(rows[:, 0]).to(dtype), "cls": torch.from_numpy(rows[:, 1:2]).to(dtype),
             "bboxes": torch.from_numpy(rows[:, 2:6]).to(dtype), "masks": torch.from_numpy(masks),
             "sem_masks": torch.from_numpy(sems).to(dtype)}
    preds = model(x)
    loss, items = crit(preds, batch)
    loss.sum().backward()
    sd = model.state_dict()
    params = dict(model.named_parameters())
    names, norms, flat = [], [], []
    for k in sd:
        p = params.get(k)
        if p is None or not p.requires_grad:
            continue
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        names.append(k)
        norms.append(float(g.double().norm()))
        flat.append(g.detach().double().flatten())
    flat = torch.cat(flat).numpy()
    it = np.array([float(v) for v in (items.values() if isinstance(items, dict) else items)])
    torch.set_default_dtype(torch.float32)
    return {"loss": loss.detach().double().numpy(), "items": it, "norms": np.array(norms), "flat": flat,
            "names": names, "fg": captured["fg"], "gt_idx": captured["gt_idx"]}


def main():
    import torch
    import ultralytics

    import formula as F

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    rows, masks, sems = make_batch()
    np.save(OUT / "batch_rows.npy", rows)
    np.save(OUT / "batch_masks.npy", masks.astype(np.float32))  # cyolo reads <f4 only
    man = {"generator": "tools/refgen/dump_train_seg.py", "ultralytics": ultralytics.__version__,
           "torch": str(torch.__version__), "input": [3, 3, H, W], "step": STEP, "rows": rows.tolist(), "models": {}}
    for name in ("yolo26n-seg", "yolov8n-seg"):
        r = step(name, F, rows, masks, sems, torch.float32)
        np.save(OUT / f"{name}_loss.npy", r["loss"].astype(np.float32))
        np.save(OUT / f"{name}_loss_items.npy", r["items"].astype(np.float32))
        np.save(OUT / f"{name}_grad_norms.npy", r["norms"].astype(np.float32))
        np.save(OUT / f"{name}_grads_sampled.npy", r["flat"][::STEP].astype(np.float32))
        np.save(OUT / f"{name}_fg_mask.npy", r["fg"].astype(np.float32))
        np.save(OUT / f"{name}_target_gt_idx.npy", r["gt_idx"].astype(np.float32))
        man["models"][name] = {
            "loss": r["loss"].tolist(), "items": r["items"].tolist(), "grad_l2": float(np.linalg.norm(r["flat"])),
            "n_fg_o2m": int(r["fg"].sum()), "grad_names": r["names"], "numel": int(r["flat"].size)}
        print(name, "loss", r["loss"], "items", r["items"], "fg", int(r["fg"].sum()), flush=True)
    (OUT / "manifest.json").write_text(json.dumps(man, indent=0) + "\n")


if __name__ == "__main__":
    main()
