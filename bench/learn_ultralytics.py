#!/usr/bin/env python3
"""Ultralytics' side of bench/learn: yolo26n from scratch on a dataset YAML,
validation every epoch; prints the results.csv path and the wall time.
Continues an interrupted run (resume=True) when its last.pt exists."""
import argparse
import json
import os
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--project", required=True)
    ap.add_argument("--save-period", type=int, default=-1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from ultralytics import YOLO

    t0 = time.time()
    last = os.path.join(args.project, "ultralytics", "weights", "last.pt")
    if os.path.exists(last):
        YOLO(last).train(resume=True)
    else:
        YOLO("yolo26n.yaml").train(data=args.data, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch,
                                   workers=args.workers, device="cpu", amp=False, plots=False, seed=args.seed,
                                   save_period=args.save_period, project=args.project, name="ultralytics",
                                   exist_ok=True)
    print(json.dumps({"results": os.path.join(args.project, "ultralytics", "results.csv"),
                      "wall_s": round(time.time() - t0, 1)}))


if __name__ == "__main__":
    main()
