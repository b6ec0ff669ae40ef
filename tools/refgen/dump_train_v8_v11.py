#!/usr/bin/env python3
"""Dump one Ultralytics training step (forward, v8DetectionLoss, backward) of yolov8n and yolo11n as fixtures.

Measuring instrument, run by hand; its outputs are committed under tests/fixtures/train/.

    YOLO_OFFLINE=1 /work/venv-ul/bin/python tools/refgen/dump_train_v8_v11.py

Same recipe as /work/shared/reference/manifest.json cases.3_train_loss (yolo26n), applied to the
non-end2end DFL models:
  1. Re-executes itself so that libblas.so.3 is Debian's netlib BLAS (as dump_v8_v11.py does).
  2. Re-runs the yolo26n case 3 with this script's procedure and compares it with the shared
     reference (loss, items, gradients, BN running stats, raw head outputs, assigner outputs);
     stops if anything differs by more than the shared reference's own 1-thread rerun bound.
  3. For yolov8n and yolo11n (nc=80): formula weights + Detect.bias_init() exactly as
     dump_v8_v11.py (DFL conv keeps arange(16) and is frozen), model.args = default cfg
     (box 7.5, cls 0.5, dfl 1.5), model.train(), input (2,3,128,160) = formula 'input', the
     6 target rows of the shared case 3; preds = model(x); loss, items = model.loss(batch, preds)
     (criterion = v8DetectionLoss(model)); loss.sum().backward(). The assigner call is hooked.
  4. Tolerance reruns, each on a freshly built model (a train forward moves the BN running stats):
     torch.set_num_threads(1); float64 (same float32-rounded weights); OpenBLAS instead of netlib.
  5. Writes tests/fixtures/train/manifest.json.

Gradients: all learnable parameters in state_dict order (the frozen DFL conv is skipped). To keep
the folder near 8 MB, every tensor with numel <= FULL_MAX is stored in full and every larger one
as the flat C-order elements 0, STEP, 2*STEP, ... (see grad_table 'stored'); l2 / sum / max_abs and
the tolerance figures in grad_table are over the FULL tensors.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("CYOLO_SHARED_REF", REPO.parent / "shared" / "reference"))
OUT = REPO / "tests" / "fixtures" / "train"
sys.path.insert(0, str(HERE))
import dump_v8_v11 as D  # noqa: E402  (reexec_with_blas, loaded_blas, save_npy; imports torch lazily)

MODELS = ["yolov8n", "yolo11n"]
SHAPE = (2, 3, 128, 160)
FULL_MAX = 16384  # gradient tensors up to this many elements are stored in full
STEP = 5  # larger ones: every STEP-th flat element (5 is coprime with 2^k and with 3x3 kernels)
ASSIGNER_KEYS = ["fg_mask", "target_labels", "target_gt_idx", "target_bboxes_px", "target_scores_at_label"]


def targets_rows():
    man = json.loads((SHARED / "manifest.json").read_text())
    return man, man["cases"]["3_train_loss"]["targets"]["rows"]


def make_batch(rows):
    import torch

    t = torch.tensor(rows, dtype=torch.float32)
    return {"batch_idx": t[:, 0], "cls": t[:, 1:2], "bboxes": t[:, 2:6]}


def build_train(name, F, fp64=False):
    import torch
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel(f"{name}.yaml", nc=80, verbose=False)
    F.apply_formula(model, bias_init=True)
    head = model.model[-1]
    if hasattr(head.dfl, "conv"):
        assert torch.equal(head.dfl.conv.weight.view(-1), torch.arange(head.reg_max, dtype=torch.float32))
        assert not head.dfl.conv.weight.requires_grad
    model.args = get_cfg()  # default.yaml hyperparameters, as the trainer attaches them (box/cls/dfl, epochs)
    if fp64:
        model.double()
    model.train()
    return model


def assigner_modules(crit):
    """(prefix, TaskAlignedAssigner) pairs of a criterion (E2ELoss has two)."""
    if hasattr(crit, "assigner"):
        return [("", crit.assigner)]
    return [("o2m_", crit.one2many.assigner), ("o2o_", crit.one2one.assigner)]


def run_step(name, F, rows, fp64=False, threads=2):
    """One train step on a fresh model; returns {key: float64/float32 numpy array} plus meta."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    model = build_train(name, F, fp64=fp64)
    crit = model.init_criterion()
    model.criterion = crit
    captured, hooks = {}, []
    for prefix, asg in assigner_modules(crit):
        def hook(m, args, out, prefix=prefix):
            assert prefix + "fg_mask" not in captured, "assigner called twice"
            labels, bboxes, scores, fg, gt_idx = out
            captured[prefix + "fg_mask"] = fg.float()
            captured[prefix + "target_labels"] = labels.float()
            captured[prefix + "target_gt_idx"] = gt_idx.float()
            captured[prefix + "target_bboxes_px"] = bboxes.float()
            captured[prefix + "target_scores_at_label"] = scores.sum(-1).float()
            captured[prefix + "_gt_xyxy_px"] = torch.cat((args[3], args[4]), -1).float()  # [cls, x1,y1,x2,y2]
            captured[prefix + "_anchor_points_px"] = args[2].float()
            captured[prefix + "_target_scores_sum"] = scores.sum().double().reshape(1)
        hooks.append(asg.register_forward_hook(hook))

    dt = torch.float64 if fp64 else torch.float32
    x = torch.from_numpy(F.make_input(SHAPE)).to(dt)
    batch = make_batch(rows)
    preds = model(x)
    loss, items = model.loss(batch, preds)
    loss.sum().backward()
    for h in hooks:
        h.remove()

    res = {"loss": loss.detach(), "loss_items": items.detach()}
    if isinstance(preds, dict) and "one2one" in preds:
        for br, key in (("one2many", "o2m"), ("one2one", "o2o")):
            res[f"raw_{br}_boxes"] = preds[br]["boxes"].detach()
            res[f"raw_{br}_scores"] = preds[br]["scores"].detach()
    else:
        res["raw_boxes"] = preds["boxes"].detach()
        res["raw_scores"] = preds["scores"].detach()
    res.update(captured)

    params = dict(model.named_parameters())
    sd = model.state_dict()
    table, gs, without = [], [], []
    off = 0
    for k in sd:
        p = params.get(k)
        if p is None or not p.requires_grad:
            continue
        g = p.grad
        if g is None:
            without.append(k)
            g = torch.zeros_like(p)
        gs.append(g.detach().reshape(-1))
        table.append({"name": k, "shape": list(p.shape), "offset": off, "numel": p.numel()})
        off += p.numel()
    res["grads"] = torch.cat(gs)
    bn_keys = [k for k in sd if k.endswith(".running_mean") or k.endswith(".running_var")]
    res["bn_running"] = torch.cat([sd[k].reshape(-1) for k in bn_keys])
    out = {k: (v.double() if fp64 else v.float()).numpy().copy() for k, v in res.items()}
    frozen = [k for k in sd if k in params and not params[k].requires_grad]
    meta = {"grad_table": table, "params_without_grad": without, "bn_keys": bn_keys, "frozen_params": frozen,
            "criterion": crit}
    return out, meta


def loss_hyperparameters(crit, model_args):
    a = crit.assigner
    return {
        "criterion": type(crit).__name__,
        "box": float(model_args.box),
        "cls": float(model_args.cls),
        "dfl": float(model_args.dfl),
        "reg_max": int(crit.reg_max),
        "use_dfl": bool(crit.use_dfl),
        "class_weights": None if crit.class_weights is None else crit.class_weights.flatten().tolist(),
        "assigner": {
            "class": type(a).__name__,
            "topk": int(a.topk),
            "topk2": int(a.topk2),
            "alpha": float(a.alpha),
            "beta": float(a.beta),
            "eps": float(a.eps),
            "stride": [float(s) for s in a.stride],
            "stride_val (STAL)": float(a.stride_val),
            "num_classes": int(a.num_classes),
        },
    }


LOSS_DEFINITION = [
    "pred_distri = boxes.permute(0,2,1) (B,A,64) DFL logits, per anchor side-major l,t,r,b x 16 bins; "
    "pred_scores = scores.permute(0,2,1) (B,A,80) logits",
    "anchor_points (A,2) = (col+0.5,row+0.5) grid units per level (P3,P4,P5 row-major), stride_tensor (A,1); "
    "imgsz (H,W) = feats0.hw * stride0 = (128,160)",
    "targets -> per image padded (B,max_n,5) [cls,x1,y1,x2,y2] px (xywh*[W,H,W,H] -> xyxy); mask_gt = sum(box)>0",
    "pred side distances (grid units) = softmax over the 16 bins . arange(16); pred_bboxes = [anchor-lt, anchor+rb]",
    "assigner(sigmoid(pred_scores).detach(), pred_bboxes.detach()*stride, anchor*stride, gt_labels, gt_bboxes, "
    "mask_gt): TaskAlignedAssigner topk=10 (topk2=10, i.e. no second filter), alpha=0.5, beta=6, eps=1e-9, WITH "
    "STAL: a gt side < stride[0]=8 px is widened to stride_val=stride[1]=16 px around the centre for the "
    "candidate (anchor centre inside) test only; overlaps = CIoU(gt, pred) clamped >= 0; align = score^0.5 * "
    "overlaps^6; per gt top-10 by align (torch.topk), & candidate & valid gt; anchor claimed by >1 gt -> keep the "
    "gt with the largest overlaps; target_gt_idx = argmax over gts; target_scores = onehot(label) * fg * "
    "max_over_gts(align*mask_pos * max_overlap_of_gt / (max_align_of_gt + 1e-9))",
    "target_scores_sum = max(target_scores.sum(), 1)",
    "cls = BCEWithLogits(pred_scores, target_scores) summed over all B*A*80 / target_scores_sum",
    "if any fg: w = target_scores.sum(-1)[fg]; box = sum((1 - CIoU(pred_bboxes[fg], target_bboxes[fg]/stride)) * w) "
    "/ tss (CIoU as in the shared manifest, eps=1e-7, alpha under no_grad)",
    "dfl: t = clamp([anchor - x1y1, x2y2 - anchor] (grid units), 0, 14.99) (bbox2dist with reg_max-1=15, then "
    "DFLoss clamps again to reg_max-1-0.01 = 14.99); tl = floor(t), tr = tl+1, wl = tr - t, wr = 1 - wl; per side "
    "CE(logits16, tl)*wl + CE(logits16, tr)*wr, mean over the 4 sides, times w, summed over fg / tss",
    "loss = [box*7.5, cls*0.5, dfl*1.5]; model.loss returns (loss * B, loss.detach()); the trainer backprops "
    "loss.sum()",
]

MEANING = {
    "loss": "loss vector returned for backward (3,): [box, cls, dfl] * batch_size (each already times its gain); "
    "backward is of loss.sum()",
    "loss_items": "detached loss items (3,) [box, cls, dfl] as logged by the trainer (gain-weighted, not x batch)",
    "raw_boxes": "train-mode (batch-stat BN) raw head output preds['boxes'] (B, 64, A): DFL logits, per anchor 64 "
    "rows side-major (l,t,r,b) x 16 bins; anchors P3 (16x20) then P4 (8x10) then P5 (4x5), row-major",
    "raw_scores": "train-mode raw head output preds['scores'] (B, 80, A): class logits",
    "grads_sampled": "gradient of loss.sum() w.r.t. every learnable parameter in state_dict order (frozen DFL conv "
    "skipped); per tensor either all elements (numel <= %d) or the flat C-order elements 0, %d, 2*%d, ... of it; "
    "where each tensor's part lies: grad_table[i].stored" % (FULL_MAX, STEP, STEP),
    "bn_running": "all BatchNorm running_mean / running_var after ONE train-mode forward (momentum 0.03; unbiased "
    "batch variance for the running update), concatenated in state_dict order: per BN running_mean then "
    "running_var (order of bn_keys)",
    "fg_mask": "assigner fg_mask (B, A) 0/1",
    "target_labels": "assigner target_labels (B, A): class of the assigned gt (meaningless where fg=0)",
    "target_gt_idx": "assigner target_gt_idx (B, A): index into the image's gt list (0 where fg=0)",
    "target_bboxes_px": "assigner target_bboxes (B, A, 4) xyxy input pixels (box of gt 0 of the image where fg=0)",
    "target_scores_at_label": "assigner target_scores summed over classes (B, A): target_scores = "
    "onehot(target_label) * this value (0 for background)",
    "gt_xyxy_px": "preprocessed targets as the assigner gets them (B, max_boxes=3, 5): [cls, x1, y1, x2, y2] px "
    "(rows with all zeros = padding)",
}
SOURCE_DTYPE = {"fg_mask": "bool", "target_labels": "int64", "target_gt_idx": "int64"}
DISCRETE = {"fg_mask", "target_labels", "target_gt_idx"}


def cmp(a, b):
    import numpy as np

    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max()) if a.size else 0.0


def verify_yolo26n(F, rows):
    """Re-run the shared case 3 with this script's procedure; compare with the shared files."""
    import numpy as np

    man = json.loads((SHARED / "manifest.json").read_text())
    files = man["files"]
    got, meta = run_step("yolo26n", F, rows)
    pairs = {
        "c3_n_train_loss.npy": got["loss"],
        "c3_n_train_loss_items.npy": got["loss_items"],
        "c3_n_train_grads.npy": got["grads"],
        "c3_n_bn_running_after_train_forward.npy": got["bn_running"],
    }
    for br in ("one2many", "one2one"):
        pairs[f"c3_n_train_raw_{br}_boxes.npy"] = got[f"raw_{br}_boxes"]
        pairs[f"c3_n_train_raw_{br}_scores.npy"] = got[f"raw_{br}_scores"]
    for p in ("o2m", "o2o"):
        for k in ASSIGNER_KEYS:
            pairs[f"c5_{p}_{k}.npy"] = got[f"{p}_{k}"]
    pairs["c5_gt_xyxy_px.npy"] = got["o2m__gt_xyxy_px"]
    pairs["c5_anchor_points_px.npy"] = got["o2m__anchor_points_px"]
    report, bad = {}, []
    for fname, arr in pairs.items():
        ref = np.load(SHARED / fname)
        assert ref.shape == arr.shape, (fname, ref.shape, arr.shape)
        d = cmp(arr, ref)
        report[fname] = {"max_abs_diff": d, "bit_identical": bool(np.array_equal(arr.astype(np.float32), ref))}
        bound = files[fname].get("rerun_1thread", {}).get("max_abs", 0.0)
        if d > max(bound, 1e-6 * max(1.0, float(np.abs(ref).max()))):
            bad.append(fname)
    n_bit = sum(r["bit_identical"] for r in report.values())
    print(f"yolo26n case 3 vs shared reference: {n_bit}/{len(report)} files bit-identical, worst max|diff| "
          f"{max(r['max_abs_diff'] for r in report.values()):.3g}", flush=True)
    assert not bad, {k: report[k] for k in bad}
    return {"files": report, "bit_identical_files": n_bit, "compared_files": len(report),
            "grad_tensors": len(meta["grad_table"])}


def child_openblas(tmp, rows):
    import numpy as np
    import torch

    import formula as F

    for name in MODELS:
        got, _ = run_step(name, F, rows, threads=2)
        np.savez(Path(tmp) / f"{name}.npz", **got)
    print("openblas child used", D.loaded_blas(), "threads", torch.get_num_threads(), flush=True)


def stored_layout(table):
    """Fill grad_table[i]['stored'] and return the flat index list into the full gradient vector."""
    import numpy as np

    idx, pos = [], 0
    for e in table:
        n = e["numel"]
        step = 1 if n <= FULL_MAX else STEP
        cnt = -(-n // step)
        e["stored"] = {"file_offset": pos, "count": cnt, "step": step}
        idx.append(e["offset"] + np.arange(0, n, step, dtype=np.int64))
        pos += cnt
    return np.concatenate(idx)


def dump_model(name, F, rows, out, reruns_wanted, openblas):
    import numpy as np

    ref, meta = run_step(name, F, rows)
    crit = meta.pop("criterion")
    hyp = loss_hyperparameters(crit, crit.hyp)
    reruns = {}
    if reruns_wanted:
        reruns["rerun_1thread"], _ = run_step(name, F, rows, threads=1)
        reruns["vs_fp64"], meta64 = run_step(name, F, rows, fp64=True)
        meta64.pop("criterion")
        if openblas is not None:
            reruns["vs_openblas"] = openblas
    import torch

    torch.set_num_threads(2)

    table = meta["grad_table"]
    sel = stored_layout(table)
    g = ref["grads"]
    for e in table:
        s = slice(e["offset"], e["offset"] + e["numel"])
        gt = g[s].astype(np.float64)
        e["l2"] = float(np.sqrt((gt * gt).sum()))
        e["sum"] = float(gt.sum())
        e["max_abs"] = float(np.abs(gt).max())
        for rname, r in reruns.items():
            o = r["grads"][s].astype(np.float64)
            e[f"{rname}_max_abs"] = float(np.abs(gt - o).max())
            if rname == "vs_fp64":
                e["fp64_l2"] = float(np.sqrt((o * o).sum()))
                e["vs_fp64_rel_l2"] = float(np.sqrt(((gt - o) ** 2).sum()) / max(e["fp64_l2"], 1e-30))
    exact_zero = [e["name"] for e in table if e["l2"] == 0.0 and e.get("fp64_l2", 0.0) == 0.0]
    zero_true = [e["name"] for e in table if "fp64_l2" in e and e["fp64_l2"] < 1e-12 and e["name"] not in exact_zero]
    tiny = [e["name"] for e in table if "fp64_l2" in e and 1e-12 <= e["fp64_l2"] < 1e-6]

    arrays = {
        "loss": ref["loss"],
        "loss_items": ref["loss_items"],
        "raw_boxes": ref["raw_boxes"],
        "raw_scores": ref["raw_scores"],
        "grads_sampled": g[sel],
        "bn_running": ref["bn_running"],
        "gt_xyxy_px": ref["_gt_xyxy_px"],
    }
    for k in ASSIGNER_KEYS:
        arrays[k] = ref[k]
    files = []
    for key, arr in arrays.items():
        fname = f"{name}_{key}.npy"
        D.save_npy(out / fname, arr)
        arr32 = np.load(out / fname)
        entry = {
            "file": fname,
            "shape": list(arr32.shape),
            "dtype": "float32",
            "source_dtype": SOURCE_DTYPE.get(key, "float32"),
            "bytes": (out / fname).stat().st_size,
            "meaning": f"{name} " + MEANING[key],
            "stats": {"min": float(arr32.min()), "max": float(arr32.max()),
                      "mean_abs": float(np.abs(arr32.astype(np.float64)).mean())},
        }
        src = {"grads_sampled": "grads", "gt_xyxy_px": "_gt_xyxy_px"}.get(key, key)
        for rname, r in reruns.items():
            o = r[src][sel] if key == "grads_sampled" else r[src]
            if key in DISCRETE:
                entry[rname] = {"mismatches": int((o.astype(np.float64) != arr32.astype(np.float64)).sum())}
            else:
                d = cmp(arr32, o)
                entry[rname] = {"max_abs": d, "max_abs_over_max_ref": d / max(float(np.abs(arr32).max()), 1e-30)}
                if rname != "vs_fp64":
                    entry[rname]["bit_identical"] = bool(np.array_equal(arr32, o.astype(np.float32)))
        if key == "grads_sampled":  # figures over the FULL gradient vector
            for rname, r in reruns.items():
                d = cmp(g, r["grads"])
                entry[rname + "_full_vector"] = {"max_abs": d,
                                                 "max_abs_over_max_ref": d / float(np.abs(g).max())}
        files.append(entry)

    fg = ref["fg_mask"]
    r64 = reruns.get("vs_fp64")
    total_l2 = float(np.sqrt((g.astype(np.float64) ** 2).sum()))
    res = {
        "files": files,
        "loss_hyperparameters": hyp,
        "loss_vector": [float(v) for v in ref["loss"]],
        "loss_items": [float(v) for v in ref["loss_items"]],
        "check_loss_eq": "loss == batch_size(2) * loss_items (up to float32 rounding of the multiply)",
        "target_scores_sum": float(ref["_target_scores_sum"][0]),
        "fg_per_image": [int(v) for v in fg.sum(1)],
        "fg_per_level": {"P3 (anchors 0-319)": int(fg[:, :320].sum()), "P4 (320-399)": int(fg[:, 320:400].sum()),
                         "P5 (400-419)": int(fg[:, 400:].sum())},
        "fp64_loss_vector": None if r64 is None else [float(v) for v in r64["loss"]],
        "fp64_loss_items": None if r64 is None else [float(v) for v in r64["loss_items"]],
        "grad_vector_numel": int(g.size),
        "grad_stored_numel": int(sel.size),
        "grad_total_l2": total_l2,
        "grad_vs_fp64_rel_l2_total": None if r64 is None else float(
            np.sqrt(((g.astype(np.float64) - r64["grads"]) ** 2).sum()) / np.sqrt((r64["grads"] ** 2).sum())),
        "grad_storage": f"tensors with numel <= {FULL_MAX}: all elements; larger tensors: flat C-order elements "
        f"0, {STEP}, 2*{STEP}, ... (count = ceil(numel/{STEP})). grad_table[i].offset is the tensor's offset in "
        "the FULL gradient vector (what cyolo computes); grad_table[i].stored.file_offset / count / step locate "
        "its stored elements in <model>_grads_sampled.npy: file[file_offset + j] = full[offset + j*step]",
        "grad_table": table,
        "params_without_grad": meta["params_without_grad"],
        "frozen_params_skipped": meta["frozen_params"],
        "zero_true_gradient_tensors": {
            "names": zero_true,
            "note": "fp64 gradient L2 < 1e-12 but float32 not exactly 0: mathematically zero (a per-channel constant "
            "added by these BN biases reaches another train-mode BatchNorm only through linear ops / max-pool, "
            "which removes it); the float32 values are rounding noise (~1e-7), so compare them with an absolute "
            "tolerance only",
        },
        "exactly_zero_gradient_tensors": {
            "names": exact_zero,
            "note": "gradient exactly 0 in float32 and float64: the box branch of a level with no foreground anchor "
            "(box/DFL losses only reach fg anchors; see fg_per_level). A correct implementation gives exact zeros",
        },
        "tiny_gradient_tensors": {
            "names": tiny,
            "note": "1e-12 <= fp64 gradient L2 < 1e-6 and the float32 values agree with float64 to ~1e-5 relative: "
            "real but tiny gradients (box branch of a level whose few fg anchors carry a tiny target score); an "
            "absolute tolerance does not test them, compare their per-tensor l2 relatively",
        },
        "bn_keys": meta["bn_keys"],
        "bn_running_numel": int(ref["bn_running"].size),
    }
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blas", default="netlib", choices=["netlib", "openblas"])
    ap.add_argument("--child-openblas", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--no-tolerance", action="store_true", help="skip the 1-thread/fp64/OpenBLAS reruns")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    D.reexec_with_blas("openblas" if args.child_openblas else args.blas)

    import numpy as np
    import torch
    import ultralytics

    import formula as F

    man_ref, rows = targets_rows()
    if args.child_openblas:
        return child_openblas(args.child_openblas, rows)

    t0 = time.time()
    torch.set_num_threads(2)
    n_self = F.selfcheck(man_ref)
    assert float(F.make_input(SHAPE).sum(dtype=np.float64)) == man_ref["input"]["sum"]
    verify = verify_yolo26n(F, rows)

    openblas = {}
    if not args.no_tolerance:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ)
            env.pop("CYOLO_BLAS_SET", None)
            subprocess.run([sys.executable, __file__, "--child-openblas", tmp], check=True, env=env)
            for name in MODELS:
                with np.load(Path(tmp) / f"{name}.npz") as z:
                    openblas[name] = {k: z[k] for k in z.files}

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "generator": "tools/refgen/dump_train_v8_v11.py",
        "environment": {
            "ultralytics": ultralytics.__version__,
            "torch": str(torch.__version__),
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "torch_threads": 2,
            "blas": D.loaded_blas(),
            "device": "cpu",
        },
        "conventions": {
            "npy": "little-endian float32 .npy v1.0, C order; bool/int64 arrays stored as exact float32 values "
            "(source_dtype)",
            "weights": "formula weights exactly as /work/shared/reference/manifest.json formula_weights (and "
            "tests/fixtures/ref/v8_v11_manifest.json): state_dict key names, double then one float32 rounding, "
            "then Detect.bias_init() (box bias 2.0, cls bias log(5/80/(640/stride)^2)); the DFL conv weight "
            "(model.22.dfl.conv.weight / model.23.dfl.conv.weight) keeps arange(16), requires_grad=False",
            "input": "x.flat[i] = float32(u('input', i)), shape (2,3,128,160), as the shared reference",
            "targets": "the 6 rows of shared manifest cases.3_train_loss.targets (batch_idx, cls, normalised cx, cy, "
            "w, h), given to model.loss as batch = {batch_idx (6,), cls (6,1), bboxes (6,4)} float32",
            "mode": "model.train() (BatchNorm uses batch statistics and updates running stats, momentum 0.03); "
            "model.args = ultralytics.cfg.get_cfg() (default.yaml); criterion = model.init_criterion() = "
            "v8DetectionLoss(model) (tal_topk=10)",
            "anchors": "A = 16*20 + 8*10 + 4*5 = 420; P3 then P4 then P5, row-major within a level",
            "tolerances": "rerun_1thread = vs the same step with torch.set_num_threads(1); vs_fp64 = vs the same "
            "step in float64 (model.double() after the float32 formula weights, input cast to float64; the "
            "targets stay float32 because v8DetectionLoss.preprocess allocates float32, so the assigner sees "
            "float32 gt boxes, as in the shared reference); vs_openblas = vs the same float32 step with "
            "libblas.so.3 -> OpenBLAS (2 torch threads): a different but valid float32 summation order. Every "
            "rerun uses a freshly built model. For discrete assigner outputs the figure is the number of "
            "mismatching elements",
        },
        "formula_selfcheck_entries_ok": n_self,
        "yolo26n_case3_check": verify,
        "models": {},
    }
    total = 0
    for name in MODELS:
        r = dump_model(name, F, rows, out, not args.no_tolerance, openblas.get(name))
        manifest["models"][name] = r
        for e in r["files"]:
            total += e["bytes"]
            extra = ""
            if "vs_fp64" in e:
                f = lambda k: e[k].get("max_abs", e[k].get("mismatches"))  # noqa: E731
                extra = f"  1thr {f('rerun_1thread'):.2g} fp64 {f('vs_fp64'):.2g}" + (
                    f" openblas {f('vs_openblas'):.2g}" if "vs_openblas" in e else "")
            print(f"  {e['file']:36s} {str(e['shape']):16s} {e['bytes']:9d} B{extra}", flush=True)
        print(f"  {name}: loss {r['loss_vector']} items {r['loss_items']} fg/image {r['fg_per_image']} "
              f"grad l2 {r['grad_total_l2']:.6g}; fg/level {list(r['fg_per_level'].values())}; zero-true "
              f"{r['zero_true_gradient_tensors']['names']}; exact 0: {len(r['exactly_zero_gradient_tensors']['names'])}"
              f" tensors; tiny: {len(r['tiny_gradient_tensors']['names'])} tensors",
              flush=True)
    manifest["total_bytes_excluding_manifest"] = total
    manifest["elapsed_s"] = round(time.time() - t0, 1)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {sum(len(m['files']) for m in manifest['models'].values())} files, {total} bytes, to {out}")


if __name__ == "__main__":
    main()
