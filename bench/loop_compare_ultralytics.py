#!/usr/bin/env python3
"""Ultralytics' side of bench/loop_compare: trains with its own trainer, visiting the
images in the order cyolo's loader does (torch's RandomSampler replaced by the orders
in --orders, one line per epoch), so that with augmentation off both see the same
batches. Not a test."""
import argparse
import os

os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--pretrained", required=True)
    ap.add_argument("--orders", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--name", default="ultralytics")
    ap.add_argument("args", nargs="*", help="key=value train arguments")
    a = ap.parse_args()
    import torch
    import torch.utils.data.sampler as sampler

    torch.set_num_threads(2)
    orders = [[int(v) for v in line.split()] for line in open(a.orders)]
    state = {"epoch": 0}

    def cyolo_order(self):
        order = orders[state["epoch"]]
        state["epoch"] += 1
        return iter(order)

    sampler.RandomSampler.__iter__ = cyolo_order
    from ultralytics import YOLO

    kw = {}
    for kv in a.args:
        k, v = kv.split("=", 1)
        for cast in (int, float):
            try:
                v = cast(v)
                break
            except ValueError:
                pass
        kw[k] = {"True": True, "False": False}.get(v, v) if isinstance(v, str) else v
    YOLO("yolo26n.yaml").train(data=a.data, pretrained=a.pretrained, device="cpu", amp=False, project=a.project,
                               name=a.name, exist_ok=True, **kw)


if __name__ == "__main__":
    main()
