#!/usr/bin/env python3
"""Time one Ultralytics training step (no data loading), as the yardstick for cyolo's training step.

Measuring instrument only (cyolo never runs Python). Builds the model from its yaml (default
init, nc=80), model.args = default cfg, train mode, and times what BaseTrainer._do_train does per
batch once the batch is in memory:

    loss, items = model(batch)            # train forward + the model's own criterion (E2ELoss for yolo26)
    loss.sum().backward()
    clip_grad_norm_(params, 10.0); optimizer.step(); optimizer.zero_grad(); ema.update(model)
                                          # = BaseTrainer.optimizer_step (the AMP scaler is off on CPU)

The optimizer comes from the installed Ultralytics' own BaseTrainer.build_optimizer (called on a
minimal stand-in object), with the trainer's arguments: lr=lr0, momentum, decay = weight_decay *
batch * accumulate / nbs, so its parameter groups (and MuSGD's muon/boosted-lr groups) are the
trainer's. EMA = ultralytics.utils.torch_utils.ModelEMA. Images: uniform random floats in [0, 1);
targets: --boxes synthetic boxes per image (fixed seed).

Note: the real trainer accumulates gradients over nbs/batch = 64/8 = 8 batches before one
optimizer_step; this benchmark runs optimizer_step every step (the "step" timed here is
forward + loss + backward + optimizer + EMA). Per-phase medians are printed too.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python bench/train_step_ultralytics.py --optimizer AdamW
    YOLO_OFFLINE=1 /work/venv-bench/bin/python bench/train_step_ultralytics.py --optimizer MuSGD
"""

import argparse
import contextlib
import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
from types import SimpleNamespace

os.environ.setdefault("YOLO_OFFLINE", "1")


def loaded_blas():
    """BLAS/LAPACK-like shared objects mapped into this process (Debian's torch uses whatever libblas.so.3 is)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {ln.split()[-1] for ln in f if ln.split()[-1].startswith("/")}
    except OSError:
        return []
    keys = ("blas", "mkl", "lapack", "dnnl")
    return sorted({os.path.realpath(p) for p in libs if any(k in os.path.basename(p).lower() for k in keys)})


def add_rect_masks(torch, b, batch, imgsz, boxes):
    """Segment models: each box's rectangle as its mask, overlap form at imgsz / 4 (what cyolo's benchmark uses)."""
    mh = mw = imgsz // 4
    masks = torch.zeros(batch, mh, mw, dtype=torch.uint8)
    for r, (bi, box) in enumerate(zip(b["batch_idx"].long().tolist(), b["bboxes"].tolist())):
        x, y, w, h = box
        masks[bi, int((y - h / 2) * mh):int((y + h / 2) * mh), int((x - w / 2) * mw):int((x + w / 2) * mw)] = r % boxes + 1
    b["masks"] = masks
    cls = b["cls"].view(batch, boxes)
    b["sem_masks"] = torch.stack([torch.where(m > 0, c[(m.long() - 1).clamp(min=0)], 0) for m, c in zip(masks, cls)]).float()
    return b


def synthetic_batch(torch, batch, imgsz, boxes, nc, seed):
    g = torch.Generator().manual_seed(seed)
    n = batch * boxes
    xy = 0.2 + 0.6 * torch.rand(n, 2, generator=g)  # centres, normalised
    wh = 0.05 + 0.35 * torch.rand(n, 2, generator=g)  # sizes, normalised
    return {
        "img": torch.rand(batch, 3, imgsz, imgsz, generator=g),
        "batch_idx": torch.arange(batch, dtype=torch.float32).repeat_interleave(boxes),
        "cls": torch.randint(0, nc, (n, 1), generator=g).float(),
        "bboxes": torch.cat((xy, wh), 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="yolo26n.yaml", help="Ultralytics model yaml (scale taken from the name)")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--boxes", type=int, default=5, help="synthetic boxes per image")
    ap.add_argument("--optimizer", default="AdamW", choices=["AdamW", "SGD", "MuSGD"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--no-ema", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    # Ultralytics prints on stdout at import (e.g. a settings-schema notice when two versions share
    # ~/.config/Ultralytics): send that to stderr so stdout stays one JSON line
    with contextlib.redirect_stdout(sys.stderr):
        import ultralytics
        from ultralytics.cfg import get_cfg
        from ultralytics.engine.trainer import BaseTrainer
        from ultralytics.nn.tasks import DetectionModel, SegmentationModel
        from ultralytics.utils import LOGGER
        from ultralytics.utils.torch_utils import ModelEMA

    torch.manual_seed(args.seed)
    seg = "-seg" in args.model
    model = (SegmentationModel if seg else DetectionModel)(args.model, nc=80, verbose=False)
    cfg = get_cfg()  # default.yaml: lr0, momentum, weight_decay, nbs, box/cls/dfl, epochs
    model.args = cfg
    model.train()

    # what BaseTrainer._setup_train passes to build_optimizer
    accumulate = max(round(cfg.nbs / args.batch), 1)
    weight_decay = cfg.weight_decay * args.batch * accumulate / cfg.nbs
    stub = SimpleNamespace(args=cfg, data={"nc": 80})
    LOGGER.setLevel(logging.WARNING)  # build_optimizer logs its groups on stdout; keep stdout one JSON line
    optimizer = BaseTrainer.build_optimizer(
        stub, model=model, name=args.optimizer, lr=cfg.lr0, momentum=cfg.momentum, decay=weight_decay,
        iterations=1e5,
    )
    ema = None if args.no_ema else ModelEMA(model)
    batch = synthetic_batch(torch, args.batch, args.imgsz, args.boxes, 80, args.seed)
    if seg:
        batch = add_rect_masks(torch, batch, args.batch, args.imgsz, args.boxes)

    def step():
        t0 = time.perf_counter()
        loss, _ = model(batch)  # DetectionModel.forward(dict) -> self.loss(batch), as the trainer does
        loss = loss.sum()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        optimizer.step()
        optimizer.zero_grad()
        if ema:
            ema.update(model)
        t3 = time.perf_counter()
        return t3 - t0, t1 - t0, t2 - t1, t3 - t2, float(loss.detach())

    for _ in range(args.warmup):
        step()
    res = [step() for _ in range(args.steps)]
    tot = [r[0] for r in res]
    med = lambda i: round(statistics.median(r[i] for r in res), 4)  # noqa: E731
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    print(json.dumps({
        "bench": "train_step_ultralytics",
        "model": args.model,
        "imgsz": args.imgsz,
        "batch": args.batch,
        "boxes_per_image": args.boxes,
        "optimizer": args.optimizer,
        "optimizer_class": type(optimizer).__name__,
        "param_groups": [{"n": len(g["params"]), "lr": g["lr"], "weight_decay": g.get("weight_decay"),
                          **({"use_muon": True} if g.get("use_muon") else {})} for g in optimizer.param_groups],
        "ema": ema is not None,
        "criterion": type(model.criterion).__name__,
        "threads": args.threads,
        "torch_threads": torch.get_num_threads(),
        "warmup": args.warmup,
        "steps": args.steps,
        "median_s": round(statistics.median(tot), 4),
        "min_s": round(min(tot), 4),
        "mean_s": round(statistics.fmean(tot), 4),
        "median_forward_loss_s": med(1),
        "median_backward_s": med(2),
        "median_optimizer_ema_s": med(3),
        "last_loss": round(res[-1][4], 4),
        "peak_rss_mib": round(rss_mib, 1),
        "torch": str(torch.__version__),
        "ultralytics": ultralytics.__version__,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "blas": loaded_blas(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }))


if __name__ == "__main__":
    sys.exit(main())
