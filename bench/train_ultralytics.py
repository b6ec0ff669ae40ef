#!/usr/bin/env python3
"""Ultralytics training throughput: images/s of `yolo detect train` per epoch
(data loading and augmentation included, validation off), as the yardstick
for `cyolo train`. Measuring instrument only; prints one JSON line.

    YOLO_OFFLINE=1 /work/venv-bench/bin/python bench/train_ultralytics.py --data /tmp/bench64/synth.yaml
"""
import argparse
import json
import os
import resource
import statistics
import tempfile
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="yolo26n.yaml")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--distill_model", default=None, help="teacher .pt: Ultralytics' own distillation")
    ap.add_argument("--dis", type=float, default=6.0)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    import ultralytics
    from ultralytics import YOLO

    model = YOLO(args.model)
    marks = {}

    def start(trainer):
        marks.setdefault("start", {})[trainer.epoch] = time.perf_counter()

    def end(trainer):
        marks.setdefault("end", {})[trainer.epoch] = time.perf_counter()

    model.add_callback("on_train_epoch_start", start)
    model.add_callback("on_train_epoch_end", end)
    with tempfile.TemporaryDirectory() as tmp:
        model.train(data=args.data, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, workers=args.workers,
                    val=False, plots=False, device="cpu", amp=False, project=tmp, name="bench", exist_ok=True,
                    verbose=False, seed=0,
                    **({"distill_model": args.distill_model, "dis": args.dis} if args.distill_model else {}))
    n_images = len(os.listdir(os.path.join(os.path.dirname(args.data), "images", "train")))
    secs = [marks["end"][e] - marks["start"][e] for e in sorted(marks["end"])]
    rate = [n_images / s for s in secs[1:]]  # steady state: skip the first epoch
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"bench": "train_ultralytics", "images_per_s_median": round(statistics.median(rate), 2),
                      "epoch_s": [round(s, 2) for s in secs], "workers": args.workers, "threads": args.threads,
                      "peak_rss_mib": round(rss / 1024, 1), "torch": torch.__version__,
                      "distill_model": args.distill_model,
                      "ultralytics": ultralytics.__version__}))


if __name__ == "__main__":
    main()
