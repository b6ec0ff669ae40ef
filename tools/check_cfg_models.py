#!/usr/bin/env python3
"""Check cyolo's own model YAMLs (cfg/models/) against the ones packaged with Ultralytics.

Measuring instrument. For every family and scale it copies our yaml into a temp dir
under the family name (yolo26.yaml), builds YOLO('<tmp>/yolo26n.yaml') (Ultralytics maps
yolo26n.yaml -> yolo26.yaml with scale n), makes sure that our file is the one that was
read, and compares with the packaged model: state_dict keys, shapes and dtypes, parameter
count, leaf-layer count, parse_model table (from, n, params, type, args) and strides.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/check_cfg_models.py
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
OURS = {"yolov8": "cfg/models/v8/yolov8.yaml", "yolo11": "cfg/models/11/yolo11.yaml", "yolo26": "cfg/models/26/yolo26.yaml"}


def signature(model):
    sd = model.state_dict()
    table = [(m.i, m.f, m.type, int(m.np)) for m in model.model]
    leaves = sum(1 for _, m in model.named_modules() if len(m._modules) == 0)
    return {
        "keys": [(k, tuple(v.shape), str(v.dtype)) for k, v in sd.items()],
        "params": sum(p.numel() for p in model.parameters()),
        "layers": leaves,
        "table": table,
        "stride": [float(s) for s in model.stride],
        "end2end": bool(model.end2end),
        "reg_max": int(model.model[-1].reg_max),
        "legacy": bool(type(model.model[-1]).legacy),
        "yaml_core": {k: model.yaml.get(k) for k in ("nc", "scales", "backbone", "head", "end2end", "reg_max")},
    }


def main():
    import yaml
    from ultralytics import YOLO
    from ultralytics.utils.checks import check_yaml

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fam, rel in OURS.items():
            src = REPO / rel
            dst = Path(tmp) / f"{fam}.yaml"
            shutil.copy(src, dst)
            mine_dict = yaml.safe_load(src.read_text())
            for s in "nsmlx":
                assert Path(check_yaml(str(dst), hard=False)).resolve() == dst.resolve()
                ours = YOLO(str(Path(tmp) / f"{fam}{s}.yaml")).model
                # the dict Ultralytics built from must be ours (not the packaged file found by name)
                assert ours.yaml["backbone"] == mine_dict["backbone"] and ours.yaml["head"] == mine_dict["head"]
                assert Path(ours.yaml["yaml_file"]).parent == Path(tmp)
                ref = YOLO(f"{fam}{s}.yaml").model
                a, b = signature(ours), signature(ref)
                diff = [k for k in a if a[k] != b[k]]
                # yaml_core: compare parsed content except comments (scales/backbone/head/nc/end2end/reg_max)
                status = "OK" if not diff else f"DIFF {diff}"
                failures += bool(diff)
                print(f"{fam}{s}: {len(a['keys'])} keys, {a['params']:,} params, {a['layers']} layers -> {status}")
    print("all identical" if not failures else f"{failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
