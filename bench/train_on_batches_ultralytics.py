#!/usr/bin/env python3
"""Ultralytics' trainer fed the augmented batches cyolo's pipeline made (bench/aug_batches with
the same epochs, batch, seed and close_mosaic), in their order, instead of its own pipeline's.
Set beside Ultralytics on its own batches (bench/learn_ultralytics.py, same seed: same initial
weights) and cyolo on these batches (bench/learn), it tells the data pipeline's part in a learning
gap from the training loop's. Not a test.

    /tmp/aug_batches D.yaml 60 320 16 /tmp/cyb 0 close_mosaic=10
    /work/venv-ul/bin/python bench/train_on_batches_ultralytics.py --data D.yaml --batches /tmp/cyb \
        --epochs 60 --project OUT [--name ultralytics_on_cyolo] [--seed 0] [--threads 2]
"""
import argparse
import os

os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--batches", required=True, help="bench/aug_batches output prefix (.u8, .txt)")
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--project", required=True)
    ap.add_argument("--name", default="ultralytics_on_cyolo")
    a = ap.parse_args()
    import numpy as np
    import torch
    import torch.utils.data.sampler as sampler

    torch.set_num_threads(a.threads)
    S = a.imgsz
    x = np.memmap(a.batches + ".u8", np.uint8, mode="r").reshape(-1, 3, S, S)
    t = np.loadtxt(a.batches + ".txt", ndmin=2).reshape(-1, 6)
    t = t[np.argsort(t[:, 0], kind="stable")]
    starts = np.searchsorted(t[:, 0], np.arange(len(x) + 1))
    state = {"k": 0}

    from ultralytics.data.dataset import YOLODataset

    original = YOLODataset.__getitem__

    def cyolo_sample(self, index):
        if not self.augment:  # validation: Ultralytics' own letterbox
            return original(self, index)
        k = state["k"]
        if k >= len(x):
            raise RuntimeError(f"{a.batches}.u8 holds {len(x)} images; the trainer asked for more")
        state["k"] += 1
        r = t[starts[k]:starts[k + 1]]
        return {"im_file": self.im_files[index], "ori_shape": (S, S), "resized_shape": (S, S),
                "img": torch.from_numpy(np.array(x[k])), "cls": torch.from_numpy(r[:, 1:2].astype(np.float32)),
                "bboxes": torch.from_numpy(r[:, 2:6].astype(np.float32)), "batch_idx": torch.zeros(len(r))}

    def in_order(self):  # the images come in the order cyolo's loader stored them
        return iter(range(len(self.data_source)))

    YOLODataset.__getitem__ = cyolo_sample
    sampler.RandomSampler.__iter__ = in_order
    from ultralytics import YOLO

    YOLO("yolo26n.yaml").train(data=a.data, epochs=a.epochs, imgsz=S, batch=a.batch, device="cpu", amp=False,
                               plots=False, seed=a.seed, project=a.project, name=a.name, exist_ok=True)
    if state["k"] != a.epochs * (len(x) // a.epochs):
        print(f"warning: {state['k']} of {len(x)} stored images were used")


if __name__ == "__main__":
    main()
