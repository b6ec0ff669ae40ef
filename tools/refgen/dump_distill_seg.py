#!/usr/bin/env python3
"""Dump one PyPI Ultralytics distillation step for a segmentation pair as fixtures.

Measuring instrument, run by hand; outputs go to tests/fixtures/seg_train/ (beside the
training-step fixtures, whose batch it reuses).

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_distill_seg.py

Student yolo26n-seg and teacher yolo26s-seg (nc=80), formula weights + Detect.bias_init()
(tools/refgen/formula.py), Ultralytics' own DistillationModel (ultralytics/nn/distill_model.py,
8.4.190) with dis 6.0, projectors set to the formula weights by their names
(projector.<level>.<0|2>.<weight|bias>, as the detection case of ../shared/reference), student
train(), teacher eval; input (3, 3, 128, 160) = formula 'input'; the batch of
tools/refgen/dump_train_seg.py (batch_rows.npy, batch_masks.npy); loss = model.loss(batch),
loss.sum().backward(). Saves:
  distill_seg_loss.npy       (6,) [box, seg, cls, l1, sem, dis_loss x batch] as backpropagated
  distill_seg_teacher_w<l>.npy  the teacher weight w per level (B, 1, h*w): max over classes of
                             sigmoid((one2many + one2one logits) / 2)
  distill_seg_projector_grads.npy  the projectors' gradients, flat in parameter order, every PSTEP-th
and distill_seg.json (dis_loss as logged, per-projector-tensor gradient norms, student gradient L2).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "tests" / "fixtures" / "seg_train"
PSTEP = 16  # projector gradients stored at every PSTEP-th element (the flat vector has ~0.5M)
sys.path.insert(0, str(HERE))
os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    import torch
    import ultralytics
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.distill_model import DistillationModel
    from ultralytics.nn.tasks import SegmentationModel

    import formula as F

    torch.set_num_threads(1)
    rows = np.load(OUT / "batch_rows.npy")
    masks = np.load(OUT / "batch_masks.npy").astype(np.uint8)
    cls = [rows[rows[:, 0] == b, 1] for b in range(3)]
    sems = np.stack([np.where(m > 0, c[np.clip(m.astype(np.int64) - 1, 0, None)] if len(c) else 0, 0)
                     for m, c in zip(masks, cls)]).astype(np.float32)

    def build(yaml):
        m = SegmentationModel(yaml, nc=80, verbose=False)
        F.apply_formula(m, bias_init=True)
        m.args = get_cfg(overrides={"imgsz": 160, "dis": 6.0})
        return m

    student, teacher = build("yolo26n-seg.yaml"), build("yolo26s-seg.yaml")
    dm = DistillationModel(teacher, student)
    with torch.no_grad():
        for k, p in dm.projector.named_parameters():
            name = f"projector.{k}"
            p.copy_(torch.from_numpy(F.value(name, tuple(p.shape), "weight" if p.ndim >= 2 else "bias")))
    dm.train()
    dm.student_model.criterion = dm.student_model.init_criterion()
    x = torch.from_numpy(F.make_input((3, 3, 128, 160)))
    batch = {"img": x, "batch_idx": torch.from_numpy(rows[:, 0]), "cls": torch.from_numpy(rows[:, 1:2]),
             "bboxes": torch.from_numpy(rows[:, 2:6]), "masks": torch.from_numpy(masks),
             "sem_masks": torch.from_numpy(sems)}
    captured = {}
    orig = dm.loss_sl2

    def spy(student_feat, teacher_feat, feat_idx, teacher_scores):
        captured[feat_idx] = teacher_scores[feat_idx].detach().numpy()
        return orig(student_feat, teacher_feat, feat_idx, teacher_scores)

    dm.loss_sl2 = spy
    loss, items = dm.loss(batch)
    loss.sum().backward()
    np.save(OUT / "distill_seg_loss.npy", loss.detach().numpy().astype(np.float32))
    for i, w in captured.items():
        np.save(OUT / f"distill_seg_teacher_w{i}.npy", w.astype(np.float32))
    pg = torch.cat([p.grad.flatten() for p in dm.projector.parameters()]).numpy()
    np.save(OUT / "distill_seg_projector_grads.npy", pg[::PSTEP].astype(np.float32))
    sg = torch.cat([p.grad.flatten() for p in dm.student_model.parameters() if p.grad is not None]).double()
    info = {"generator": "tools/refgen/dump_distill_seg.py", "ultralytics": ultralytics.__version__,
            "loss": loss.detach().tolist(), "items": {k: float(v) for k, v in items.items()},
            "projector_grad_l2": {f"projector.{k}": float(p.grad.double().norm()) for k, p in dm.projector.named_parameters()},
            "student_grad_l2_total": float(sg.norm()), "projector_grad_step": PSTEP}
    (OUT / "distill_seg.json").write_text(json.dumps(info, indent=1) + "\n")
    print(json.dumps({k: info[k] for k in ("loss", "items")}))


if __name__ == "__main__":
    main()
