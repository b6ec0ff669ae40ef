#!/usr/bin/env bash
# `cyolo export` as a user meets it: a short training run's best.pt becomes
# best.onnx beside it, carrying the dataset's class names; a YAML model's file
# lands in the working folder; bad formats, arguments and paths are refused
# by name with a usage exit code and leave no file.
set -u
CYOLO=$(realpath "$1")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
. "$(dirname "$0")/lib_expect.sh"

"$CYOLO" synth out="$T/ds" n_train=4 n_val=2 imgsz=64 >/dev/null || bad "synth"
( cd "$T" && "$CYOLO" train model=yolo26n.yaml data=ds/synth.yaml epochs=1 imgsz=64 batch=4 workers=0 \
    plots=False project="$T/runs" name=t >/dev/null 2>&1 ) || bad "train"
W="$T/runs/t/weights"
expect 0 "saved as '$W/best.onnx'" -- "$CYOLO" export model="$W/best.pt" format=onnx imgsz=64
[ -s "$W/best.onnx" ] && ok || bad "no best.onnx beside best.pt"
# the class names are the dataset's, in Ultralytics' metadata form
grep -aq "{0: 'circle', 1: 'square'" "$W/best.onnx" && ok || bad "names metadata missing"
expect 0 "saved as 'yolov8n.onnx'" -- bash -c "cd '$T' && '$CYOLO' export model=yolov8n.yaml imgsz=64 dynamic=True"
[ -s "$T/yolov8n.onnx" ] && ok || bad "no yolov8n.onnx in the working folder"
expect 0 "updating to [64, 96]" -- bash -c "cd '$T' && '$CYOLO' export model=yolo26n.yaml imgsz=50,70"

expect nonzero "known formats: onnx, ultralytics" -- "$CYOLO" export model="$W/best.pt" format=onnxx
expect nonzero "yolo export model=<that .pt> format=engine" -- "$CYOLO" export model="$W/best.pt" format=engine
expect nonzero "does not embed NMS" -- "$CYOLO" export model=yolov8n.yaml nms=True
expect 0 "Forcing 'nms=False'" -- bash -c "cd '$T' && '$CYOLO' export model=yolo26n.yaml imgsz=64 nms=True"
expect nonzero "opset=9: cyolo writes ONNX opsets 11 to 22" -- "$CYOLO" export model=yolov8n.yaml opset=9
expect nonzero "quantize=8" -- "$CYOLO" export model=yolov8n.yaml quantize=8
expect nonzero "dynamic=maybe: expected True or False" -- "$CYOLO" export model=yolov8n.yaml dynamic=maybe
expect nonzero "imgsz=big" -- "$CYOLO" export model=yolov8n.yaml imgsz=big
expect nonzero "is not a valid argument for 'cyolo export'" -- "$CYOLO" export model=yolov8n.yaml colour=red
expect nonzero "model=<best.pt|yaml> is required" -- "$CYOLO" export format=onnx
expect nonzero "$T/missing.pt" -- "$CYOLO" export model="$T/missing.pt"
# an export that cannot be written names the file and leaves nothing
mkdir -p "$T/ro/w.onnx" && cp "$W/best.pt" "$T/ro/w.pt"
expect nonzero "w.onnx" -- "$CYOLO" export model="$T/ro/w.pt" imgsz=64
[ -z "$(ls "$T/ro" | grep -v '^w.pt$' | grep -v '^w.onnx$')" ] && ok || bad "a temporary file was left: $(ls "$T/ro")"

# format=ultralytics: a .pt of Ultralytics' module tree that cyolo reads back as the same model
expect 0 "saved as '$W/best_ultralytics.pt'" -- "$CYOLO" export model="$W/best.pt" format=ultralytics
a=$("$CYOLO" info model="$W/best.pt" 2>&1 | grep -E "summary|parameters" | tail -1)
b=$("$CYOLO" info model="$W/best_ultralytics.pt" 2>&1 | grep -E "summary|parameters" | tail -1)
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "info differs: '$a' vs '$b'"
grep -aq "ultralytics.nn.tasks" "$W/best_ultralytics.pt" && grep -aq "circle" "$W/best_ultralytics.pt" && ok ||
    bad "no Ultralytics module tree or class names in best_ultralytics.pt"
expect 0 "saved as" -- "$CYOLO" export model="$W/best_ultralytics.pt" format=onnx imgsz=64
expect nonzero "needs a checkpoint" -- "$CYOLO" export model=yolov8n.yaml format=ultralytics
expect nonzero "$T/missing.pt" -- "$CYOLO" export model="$T/missing.pt" format=ultralytics

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
