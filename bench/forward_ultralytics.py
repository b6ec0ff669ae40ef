#!/usr/bin/env python3
"""Time the Ultralytics/PyTorch eval forward pass, as the yardstick for cyolo's own forward.

Measuring instrument only (cyolo never runs Python). Builds the model from its yaml
(default init; weights do not change the speed), fuses Conv+BN, eval mode, and times
model(x) under torch.inference_mode() after warm-up. Prints one JSON line.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python bench/forward_ultralytics.py --batch 1
    YOLO_OFFLINE=1 /work/venv-bench/bin/python bench/forward_ultralytics.py --batch 8 --model yolo11n.yaml
"""

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

os.environ.setdefault("YOLO_OFFLINE", "1")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="yolo26n.yaml", help="Ultralytics model yaml (scale taken from the name)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-fuse", action="store_true", help="time the unfused model (both heads for end2end)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import ultralytics
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(args.seed)
    model = DetectionModel(args.model, nc=80, verbose=False)
    model.eval()
    if not args.no_fuse:
        model = model.fuse(verbose=False)
    model.eval()
    x = torch.rand(args.batch, 3, args.imgsz, args.imgsz)

    times = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        for _ in range(args.runs):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    print(json.dumps({
        "bench": "forward_ultralytics",
        "model": args.model,
        "fused": not args.no_fuse,
        "batch": args.batch,
        "imgsz": args.imgsz,
        "runs": args.runs,
        "warmup": args.warmup,
        "threads": args.threads,
        "torch_threads": torch.get_num_threads(),
        "median_ms": round(statistics.median(times), 3),
        "min_ms": round(min(times), 3),
        "mean_ms": round(statistics.fmean(times), 3),
        "median_ms_per_image": round(statistics.median(times) / args.batch, 3),
        "peak_rss_mib": round(rss_mib, 1),
        "torch": str(torch.__version__),
        "ultralytics": ultralytics.__version__,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }))


if __name__ == "__main__":
    sys.exit(main())
