#!/usr/bin/env python3
"""ONNX Runtime inference time of cyolo's ONNX export vs Ultralytics' export of the same (formula) weights,
interleaved (rounds x runs, medians) so that machine noise hits both alike.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python bench/onnx_speed.py yolo26n [--imgsz 640] [--threads 2]
    build/cyolo benchmark model=yolo26n.yaml imgsz=640 runs=20 threads=2      # cyolo's own forward
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from onnx_parity import ort_session, ultralytics_export  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(REPO / "build" / "cyolo"), "export", f"model={a.model}.yaml", "init=formula",
                        f"imgsz={a.imgsz}"], check=True, capture_output=True, cwd=tmp)
        sessions = {"cyolo_onnx": ort_session(Path(tmp) / f"{a.model}.onnx", a.threads),
                    "ultralytics_onnx": ort_session(ultralytics_export(a.model, tmp, a.imgsz, 1), a.threads)}
        x = np.random.default_rng(0).random((1, 3, a.imgsz, a.imgsz), dtype=np.float32)
        times = {k: [] for k in sessions}
        for _ in range(a.rounds):
            for k, s in sessions.items():
                s.run(None, {"images": x})
                for _ in range(a.runs):
                    t0 = time.perf_counter()
                    s.run(None, {"images": x})
                    times[k].append((time.perf_counter() - t0) * 1e3)
    med = {k: float(np.median(v)) for k, v in times.items()}
    print({"model": a.model, "imgsz": a.imgsz, **{f"{k}_ms": round(v, 1) for k, v in med.items()},
           "ratio": round(med["cyolo_onnx"] / med["ultralytics_onnx"], 2)})


if __name__ == "__main__":
    main()
