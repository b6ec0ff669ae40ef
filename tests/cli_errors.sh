#!/usr/bin/env bash
# Bad input gets a clear error naming the file and the problem, a non-zero
# exit code, and never a crash (signal). Also checks what `info` and `dump`
# write on success.
set -u
CYOLO="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

. "$(dirname "$0")/lib_expect.sh"

# make_npy <path> <descr> <shape text> <number of 4-byte items to write>
make_npy() {
    local dict="{'descr': '$2', 'fortran_order': False, 'shape': $3, }"
    local total=$((10 + ${#dict} + 1))
    local pad=$(((64 - total % 64) % 64))
    local hlen=$((${#dict} + pad + 1))
    {
        printf '\x93NUMPY\x01\x00'
        printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))"
        printf '%s' "$dict"
        printf '%*s' $pad ''
        printf '\n'
        head -c $((4 * $4)) /dev/zero
    } >"$1"
}

Y=cfg/models/26/yolo26.yaml
# ---- model YAML errors ----
expect nonzero "$T/nope.yaml: model YAML not found" -- "$CYOLO" info model=$T/nope.yaml
printf 'nc: 80\nbackbone: [[-1, 1, Conv, [16, 3, 2]]\nhead: ]]\n' >$T/broken.yaml
expect nonzero "$T/broken.yaml:" -- "$CYOLO" info model=$T/broken.yaml
expect nonzero "invalid YAML" -- "$CYOLO" info model=$T/broken.yaml
sed 's/C2PSA, \[1024\]/Transformer9000, [1024]/' $Y >$T/yolo26n.yaml
expect nonzero "unknown module 'Transformer9000'" -- "$CYOLO" info model=$T/yolo26n.yaml
sed 's/SPPF, \[1024, 5, 3, True\]/SPPF, [1024, 5, 3, True, 7, 8]/' $Y >$T/yolo26n.yaml
expect nonzero "SPPF takes 1 to 4 arguments, got 6" -- "$CYOLO" info model=$T/yolo26n.yaml
sed 's/\[\[-1, 6\], 1, Concat, \[1\]\]/[[-1, 60], 1, Concat, [1]]/' $Y >$T/yolo26n.yaml
expect nonzero "'from' index 60 is out of range" -- "$CYOLO" info model=$T/yolo26n.yaml
grep -v '^  [slmx]:' $Y >$T/yolo26x.yaml
expect nonzero "scale 'x'" -- "$CYOLO" info model=$T/yolo26x.yaml
printf 'nc: 80\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead: []\n' >$T/nodetect.yaml
expect nonzero "$T/nodetect.yaml: the model has no Detect or Segment head" -- "$CYOLO" info model=$T/nodetect.yaml
S=cfg/models/26/yolo26-seg.yaml
sed 's/Segment26, \[nc, 32, 256\]/Segment26, [nc, 32]/' $S >$T/yolo26n-seg.yaml
expect nonzero "$T/yolo26n-seg.yaml:50: layer 23: Segment26 takes [nc, masks, prototype channels]" -- "$CYOLO" info model=$T/yolo26n-seg.yaml
sed 's/Segment26, \[nc, 32, 256\]/Segment26, [nc, 0, 256]/' $S >$T/yolo26n-seg.yaml
expect nonzero "Segment26 takes [nc, masks, prototype channels]" -- "$CYOLO" info model=$T/yolo26n-seg.yaml
sed 's/\[\[16, 19, 22\], 1, Segment26, \[nc, 32, 256\]\]/[[16, 19, 22], 1, Segment26, [nc, 32, 256]]\n  - [-1, 1, Conv, [16, 3, 2]]/' $S >$T/yolo26n-seg.yaml
expect nonzero "the Segment26 head must be the last layer" -- "$CYOLO" info model=$T/yolo26n-seg.yaml
expect 0 "YOLO26n-seg summary: 309 layers, 3,126,280 parameters, 3,126,280 gradients, 10.5 GFLOPs" -- "$CYOLO" info model=yolo26n-seg.yaml
expect 0 "YOLOv8n-seg summary: 151 layers, 3,409,968 parameters, 3,409,952 gradients, 12.1 GFLOPs" -- "$CYOLO" info model=yolov8n-seg.yaml
printf 'nc: eighty\nbackbone: []\n' >$T/badnc.yaml
expect nonzero "$T/badnc.yaml:1: nc must be a positive integer" -- "$CYOLO" info model=$T/badnc.yaml
printf '' >$T/empty.yaml
expect nonzero "$T/empty.yaml" -- "$CYOLO" info model=$T/empty.yaml

# ---- arguments ----
expect nonzero "unknown mode 'trian'" -- "$CYOLO" trian model=yolo26n.yaml
expect nonzero "'colour' is not a valid argument" -- "$CYOLO" info model=yolo26n.yaml colour=red
expect nonzero "not of the form key=value" -- "$CYOLO" info yolo26n.yaml
expect nonzero "model=<yaml> is required" -- "$CYOLO" info
expect nonzero "layers=99" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/o layers=99
expect nonzero "init=random" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/o init=random

# ---- .npy inputs ----
printf 'garbage, not an array' >$T/garbage.npy
expect nonzero "$T/garbage.npy: not a .npy file" -- "$CYOLO" dump model=yolo26n.yaml input=$T/garbage.npy out=$T/o
make_npy $T/trunc.npy '<f4' '(1, 3, 64, 64)' 100
expect nonzero "$T/trunc.npy: truncated data" -- "$CYOLO" dump model=yolo26n.yaml input=$T/trunc.npy out=$T/o
make_npy $T/f8.npy '<f8' '(1, 3, 64, 64)' 24576
expect nonzero "$T/f8.npy: dtype '<f8' is not supported" -- "$CYOLO" dump model=yolo26n.yaml input=$T/f8.npy out=$T/o
make_npy $T/gray.npy '<f4' '(1, 1, 64, 64)' 4096
expect nonzero "shape (N, 3, H, W)" -- "$CYOLO" dump model=yolo26n.yaml input=$T/gray.npy out=$T/o
make_npy $T/odd.npy '<f4' '(1, 3, 100, 64)' 19200
expect nonzero "input size 100x64 (HxW) is not a multiple of the model's max stride 32" -- "$CYOLO" dump model=yolo26n.yaml input=$T/odd.npy out=$T/o
make_npy $T/empty.npy '<f4' '(0, 3, 64, 64)' 0
expect nonzero "the batch is empty" -- "$CYOLO" dump model=yolo26n.yaml input=$T/empty.npy out=$T/o

# ---- success: files and text a user sees ----
make_npy $T/x.npy '<f4' '(2, 3, 64, 96)' 36864
expect 0 "" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/o layers=0,16,22
for f in output.npy layer_0.npy layer_16.npy layer_22.npy; do
    if [ -s "$T/o/$f" ]; then pass=$((pass + 1)); else echo "FAIL: dump did not write $f"; fail=$((fail + 1)); fi
done
# layer 0 of a (2,3,64,96) input is (2, 16, 32, 48)
if head -c 128 "$T/o/layer_0.npy" | grep -qF "'shape': (2, 16, 32, 48)"; then pass=$((pass + 1)); else echo "FAIL: layer_0 shape"; fail=$((fail + 1)); fi
if head -c 128 "$T/o/output.npy" | grep -qF "'shape': (2, 126, 6)"; then pass=$((pass + 1)); else echo "FAIL: output shape"; fail=$((fail + 1)); fi
expect 0 "YOLO26n summary: 260 layers, 2,572,280 parameters, 2,572,280 gradients, 6.1 GFLOPs" -- "$CYOLO" info model=yolo26n.yaml
expect 0 "YOLOv8n summary: 130 layers, 3,157,200 parameters, 3,157,184 gradients, 8.9 GFLOPs" -- "$CYOLO" info model=yolov8n.yaml
expect 0 "detections above conf" -- "$CYOLO" predict model=yolo26n.yaml imgsz=64

# ---- mode=train-step ----
printf '{"columns": ["batch_idx", "cls", "cx", "cy", "w", "h"], "rows": [[0, 3, 0.5, 0.5, 0.3, 0.4], [1, 7, 0.2, 0.3, 0.1, 0.1]]}' >$T/t.json
expect 0 "" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step targets=$T/t.json optimizer=AdamW lr0=0.001 momentum=0.9
for f in loss.npy loss_items.npy grads.npy assign_o2m.npy assign_o2o.npy bn_running.npy params_after.npy; do
    if [ -s "$T/tr/$f" ]; then pass=$((pass + 1)); else echo "FAIL: train-step dump did not write $f"; fail=$((fail + 1)); fi
done
# 2,572,280 learnable parameters; 126 anchors of a 64x96 input
if head -c 128 "$T/tr/grads.npy" | grep -qF "'shape': (2572280,)"; then pass=$((pass + 1)); else echo "FAIL: grads shape"; fail=$((fail + 1)); fi
if head -c 128 "$T/tr/assign_o2o.npy" | grep -qF "'shape': (2, 126, 8)"; then pass=$((pass + 1)); else echo "FAIL: assign shape"; fail=$((fail + 1)); fi
printf '{"columns": ["batch_idx", "cls", "cx", "cy", "w", "h"], "rows": [[0, 80, 0.5, 0.5, 0.3, 0.4]]}' >$T/badcls.json
expect nonzero "row 0: class 80 is not a class id in [0, 80)" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step targets=$T/badcls.json
printf '{"columns": ["batch_idx", "cls", "cx"], "rows": []}' >$T/nocol.json
expect nonzero "column \"cy\" is missing" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step targets=$T/nocol.json
printf '{"columns": ["batch_idx", "cls", "cx", "cy", "w", "h"], "rows": [[5, 1, 0.5, 0.5, 0.3, 0.4]]}' >$T/badimg.json
expect nonzero "batch_idx" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step targets=$T/badimg.json
expect nonzero "optimizer=Lion" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step targets=$T/t.json optimizer=Lion
expect nonzero "needs targets" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train-step
expect nonzero "mode=train" -- "$CYOLO" dump model=yolo26n.yaml input=$T/x.npy out=$T/tr mode=train

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
