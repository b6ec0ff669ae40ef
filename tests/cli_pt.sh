#!/usr/bin/env bash
# model=<file.pt> on the command line: Ultralytics' own checkpoint and
# cyolo-readable fixtures work in info / dump / predict without init=, and
# bad checkpoints give an error naming the file and the problem (never a
# signal).
set -u
CYOLO="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
REF=${CYOLO_REF_DIR:-../shared/reference}/yolo26n_formula.pt
F=tests/fixtures/pt

. "$(dirname "$0")/lib_expect.sh"

# info on Ultralytics' yolo26n checkpoint: the yolo26n table and numbers,
# line for line what the YAML gives
expect 0 "YOLO26n summary: 260 layers, 2,572,280 parameters, 2,572,280 gradients, 6.1 GFLOPs" -- \
    "$CYOLO" info model="$REF"
"$CYOLO" info model="$REF" >"$T/pt.txt" 2>&1
"$CYOLO" info model=yolo26n.yaml >"$T/yaml.txt" 2>&1
if cmp -s "$T/pt.txt" "$T/yaml.txt"; then pass=$((pass + 1)); else echo "FAIL: info differs"; diff "$T/pt.txt" "$T/yaml.txt"; fail=$((fail + 1)); fi
expect 0 "tiny-YOLOv8n summary: 130 layers, 23,877 parameters" -- "$CYOLO" info model=$F/ul_v8_tiny.pt

# dump: the checkpoint's weights, no init= (a float32 (1, 3, 64, 96) input)
{
    printf '\x93NUMPY\x01\x00\x76\x00'
    printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 64, 96), }"
    head -c $((4 * 3 * 64 * 96)) /dev/zero
} >"$T/x.npy"
expect 0 "" -- "$CYOLO" dump model=$F/ul_v8_tiny.pt input="$T/x.npy" out="$T/o"
if [ -f "$T/o/output.npy" ] && head -c 128 "$T/o/output.npy" | grep -qF "'shape': (1, 7, 126)"; then
    pass=$((pass + 1))
else
    echo "FAIL: dump wrote no (1, 7, 126) output.npy"; fail=$((fail + 1))
fi
expect nonzero "is a checkpoint: it brings its own weights" -- \
    "$CYOLO" dump model=$F/ul_v8_tiny.pt input="$T/x.npy" out="$T/o" init=formula
expect 0 "0 detections" -- "$CYOLO" predict model=$F/ul_11_tiny.pt imgsz=64

# errors
expect 0 "ultralytics.nn.modules.head.Segment26" -- "$CYOLO" info model=$F/ul_seg26_tiny.pt
expect 0 "tiny-YOLOv8n-seg summary: 70 layers" -- "$CYOLO" info model=$F/ul_segv8_noact.pt
expect nonzero "has shape [8, 3, 3, 3] in the checkpoint, the model built from its YAML expects [16, 3, 3, 3]" -- \
    "$CYOLO" info model=$F/ul_badshape.pt
printf 'not a zip' >"$T/junk.pt"
expect nonzero "$T/junk.pt: not a PyTorch zip checkpoint" -- "$CYOLO" info model="$T/junk.pt"
printf '\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.' >"$T/legacy.pt"
expect nonzero "$T/legacy.pt: legacy (non-zip) PyTorch checkpoint format" -- "$CYOLO" info model="$T/legacy.pt"
expect nonzero "zip_bomb.pt: record data/0 would unpack to more than the file can hold" -- \
    "$CYOLO" info model=tests/fuzz/regressions/zip_bomb.pt
expect nonzero "$T/none.pt: cannot open" -- "$CYOLO" info model="$T/none.pt"

# a new training run from Ultralytics' checkpoint (model=x.pt, no resume): its
# YAML and the weights that fit the built-in set's 6 classes (the class
# branches are narrower for 6 classes: c3 = max(c, min(nc, 100))); as a teacher
# for that set it is refused (80 classes)
export CYOLO_DATASETS="$T/datasets"
expect 0 "Transferred 606/708 items from pretrained weights" -- "$CYOLO" train model="$REF" epochs=1 imgsz=64 \
    batch=8 fraction=0.05 plots=False val=False project="$T/runs" name=ul
expect nonzero "the teacher predicts 80 classes, the dataset has 6" -- "$CYOLO" train model=yolo26n.yaml \
    distill_model="$REF" epochs=1 imgsz=64 batch=8 fraction=0.05 project="$T/runs" name=ulteacher
echo "cli_pt: $pass passed, $fail failed"
[ $fail -eq 0 ]
