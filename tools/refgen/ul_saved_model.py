"""A model in the state Ultralytics' trainer leaves it in when save_model pickles its EMA, without
training: the attributes DetectionTrainer.set_model_attributes sets (nc, names, args), the head's
max_det (set_head_attr), the criterion the loss made and save_model clears (None), the head's
end2end as the trainer's validator sets it (nms is False: False by default), the anchor cache one
eval forward of a (1, 3, imgsz, imgsz) batch leaves on the head, then deepcopy + .half() with
requires_grad False and args as a dict (strip_optimizer). Checked against checkpoints of real
Ultralytics 8.4.190 training runs: the module trees match except the anchor cache's batch size and
the args' values (tools/check_ultralytics_pt.py --reference).

Development only (CI has no Python)."""

import copy

import torch


def saved_like(model, imgsz=64, overrides=None):
    """The checkpoint dict save_model writes for model (an Ultralytics DetectionModel or
    SegmentationModel whose names are set), laid out as strip_optimizer's metadata + save_model's
    keys. model itself is changed as the trainer changes it."""
    from ultralytics import __version__
    from ultralytics.cfg import get_cfg
    from ultralytics.utils import IterableSimpleNamespace

    task = "segment" if type(model).__name__ == "SegmentationModel" else "detect"
    args = get_cfg(overrides={"task": task, "imgsz": imgsz, **(overrides or {})})
    model.nc = model.yaml["nc"]
    model.args = IterableSimpleNamespace(**vars(args))
    model.criterion = None
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, model.yaml.get("channels", 3), imgsz, imgsz))  # the head's anchor cache
    model.set_head_attr(max_det=args.max_det)
    model.end2end = args.nms is False
    ema = copy.deepcopy(model).half()
    for p in ema.parameters():
        p.requires_grad = False
    ema.args = dict(ema.args)
    return {
        "date": "2026-01-01T00:00:00+00:00",
        "version": __version__,
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "epoch": 0,
        "best_fitness": 0.5,
        "model": None,
        "ema": ema,
        "updates": 10,
        "optimizer": None,
        "train_args": vars(args),
        "train_metrics": {"fitness": 0.5},
        "train_results": {},
    }
