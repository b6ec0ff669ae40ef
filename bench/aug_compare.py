#!/usr/bin/env python3
"""cyolo's training batches beside Ultralytics' on the same dataset: statistics of what
the augmentation pipeline produces (targets per image, box sizes, pixel means) and the
loss one fixed Ultralytics model gives on each (train mode, BN statistics frozen), with
the standard error over batches. Equal losses mean the two pipelines make equally hard
batches. Not a test.

    gcc ... bench/aug_batches.c ... -o /tmp/aug_batches   (see that file)
    /work/venv-ul/bin/python bench/aug_compare.py --data D.yaml --weights W.pt \
        [--aug-batches /tmp/aug_batches] [--epochs 3] [--imgsz 320] [--batch 16] [k=v ...]

k=v: augmentation hyperparameters for both sides (hsv_h=0 mosaic=0 ...).
Both sides draw Mosaic partners from one buffer: cyolo's loader replays one (as Ultralytics
on CPU, workers=0), Ultralytics' dataset is indexed here in one process.
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")


def stats(name, imgs_fn, rows, n_img, losses):
    a = np.array(rows, np.float64).reshape(-1, 6)
    w, h = a[:, 4], a[:, 5]
    s = np.zeros(3)
    sq = np.zeros(3)
    npix = 0
    for im in imgs_fn():
        f = im.reshape(3, -1).astype(np.float64) / 255
        s += f.sum(1)
        sq += (f * f).sum(1)
        npix += f.shape[1]
    m = s / npix
    ls = np.array(losses)
    print(f"{name:12s} images {n_img}  targets/img {len(a) / n_img:.3f}  box w {w.mean():.4f} h {h.mean():.4f}  "
          f"area q25/50/75 {np.quantile(w * h, [0.25, 0.5, 0.75]).round(5)}  RGB mean {m.round(4)} "
          f"std {np.sqrt(sq / npix - m * m).round(4)}")
    print(f"{'':12s} loss box/cls/dfl {ls.mean(0).round(4)} +- {(ls.std(0) / np.sqrt(len(ls))).round(4)} "
          f"over {len(ls)} batches")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True, help="an Ultralytics checkpoint (its EMA is used)")
    ap.add_argument("--aug-batches", default="/tmp/aug_batches")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("hyp", nargs="*")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    hyp = {k: float(v) for k, v in (x.split("=") for x in args.hyp)}
    cfg = get_cfg(overrides=dict(imgsz=args.imgsz, data=args.data, **hyp))
    ck = torch.load(args.weights, weights_only=False)
    model = (ck.get("ema") or ck["model"]).float()
    model.args = cfg
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.momentum = 0.0
    model.train()

    def loss_of(x_u8, rows):
        r = np.array(rows, np.float32).reshape(-1, 6)
        b = {"img": torch.from_numpy(np.ascontiguousarray(x_u8)).float() / 255,
             "batch_idx": torch.from_numpy(r[:, 0]), "cls": torch.from_numpy(r[:, 1:2]),
             "bboxes": torch.from_numpy(r[:, 2:6])}
        with torch.no_grad():
            return model.loss(b)[1].numpy()

    S, B = args.imgsz, args.batch
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "cy")
        subprocess.run([args.aug_batches, args.data, str(args.epochs), str(S), str(B), prefix, "0", *args.hyp],
                       check=True)
        x = np.fromfile(prefix + ".u8", np.uint8).reshape(-1, 3, S, S)
        t = np.loadtxt(prefix + ".txt", ndmin=2).reshape(-1, 6)
        n = len(x)
        losses = []
        for b0 in range(0, n, B):
            sel = (t[:, 0] >= b0) & (t[:, 0] < b0 + B)
            r = t[sel].copy()
            r[:, 0] -= b0
            losses.append(loss_of(x[b0:b0 + B], r))
        stats("cyolo", lambda: iter(x), t, n, losses)

    data = check_det_dataset(args.data)
    ds = build_yolo_dataset(cfg, data["train"], B, data, mode="train", stride=32)
    rng = np.random.default_rng(0)
    all_rows, imgs, losses = [], [], []
    for _ in range(args.epochs):
        order = rng.permutation(len(ds))
        for b0 in range(0, len(ds), B):
            bx, br = [], []
            for k, i in enumerate(order[b0:b0 + B]):
                d = ds[int(i)]
                bx.append(d["img"].numpy())
                for c, bb in zip(d["cls"].numpy().ravel(), d["bboxes"].numpy()):
                    br.append([k, c, *bb])
                    all_rows.append([len(imgs) + k, c, *bb])
            imgs.extend(bx)
            losses.append(loss_of(np.stack(bx), br))
    stats("ultralytics", lambda: iter(imgs), all_rows, len(imgs), losses)


if __name__ == "__main__":
    main()
