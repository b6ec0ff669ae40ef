#!/usr/bin/env bash
# `cyolo train` end to end on the built-in synthetic dataset (generated into
# a temporary folder): the run folder, args.yaml, results.csv with
# Ultralytics' columns and one row per epoch; bad arguments refused with the
# key named and the nearest valid key suggested.
set -u
CYOLO="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export CYOLO_DATASETS="$T/datasets"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

out=$("$CYOLO" train model=yolo26n.yaml epochs=2 imgsz=64 batch=8 fraction=0.1 workers=2 project="$T/runs" name=exp 2>&1)
rc=$?
[ $rc -eq 0 ] && ok || bad "train exit $rc: $out"
R="$T/runs/exp"
[ -s "$R/args.yaml" ] && ok || bad "no args.yaml"
grep -qx "epochs: 2" "$R/args.yaml" && grep -qx "imgsz: 64" "$R/args.yaml" && grep -qx "mosaic: 1.0" "$R/args.yaml" && ok ||
    bad "args.yaml content"
head -1 "$R/results.csv" | grep -q "^epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2$" &&
    ok || bad "results.csv header: $(head -1 "$R/results.csv")"
[ "$(wc -l <"$R/results.csv")" -eq 3 ] && ok || bad "results.csv rows: $(cat "$R/results.csv")"
grep -q "^2," "$R/results.csv" && ok || bad "epoch 2 row"
[ -s "$R/weights/last.pt" ] && [ -s "$R/weights/best.pt" ] && ok || bad "weights/last.pt and best.pt"
head -c 8 "$R/results.png" | od -An -tx1 | grep -q "89 50 4e 47 0d 0a 1a 0a" && ok || bad "results.png is a PNG"
ls "$R/weights" | grep -q tmp && bad "temporary checkpoint left behind" || ok
grep -q "Epoch.*box_loss.*cls_loss.*dfl_loss.*Instances.*Size" <<<"$out" && ok || bad "progress header"
grep -q "mAP50-95" <<<"$out" && ok || bad "validation line"
[ -s "$CYOLO_DATASETS/synth/synth.yaml" ] && ok || bad "built-in dataset generated"

# cyolo val on the run's best.pt: Ultralytics' table with the class names
out=$("$CYOLO" val model="$R/weights/best.pt" data=synth.yaml imgsz=64 batch=16 project="$T/runs" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "Class.*Images.*Instances.*Box(P.*mAP50-95)" <<<"$out" && grep -q "^ *all *80 " <<<"$out" &&
    grep -q "^ *triangle " <<<"$out" && ok || bad "val ($rc): $out"
out=$("$CYOLO" val model="$T/nothing.pt" data=synth.yaml 2>&1); rc=$?
[ $rc -eq 1 ] && grep -qF "$T/nothing.pt" <<<"$out" && ok || bad "val with a missing checkpoint ($rc): $out"

# cyolo predict on a folder: annotated images and YOLO label lines
out=$("$CYOLO" predict model="$R/weights/best.pt" source="$CYOLO_DATASETS/synth/images/val" imgsz=64 conf=0.0001 \
    save_txt=True save_conf=True project="$T/runs" name=pred 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^image 1/80 .*000000.jpg: 64x64 " <<<"$out" && ok || bad "predict ($rc): $(head -3 <<<"$out")"
[ "$(ls "$T/runs/pred" | grep -c '\.jpg$')" -eq 80 ] && ok || bad "80 annotated images"
awk 'NF != 6 || $1 !~ /^[0-9]+$/ || $2 < 0 || $2 > 1 || $6 < 0 || $6 > 1 { bad = 1 } END { exit bad }' \
    "$T/runs/pred/labels/000000.txt" && [ -s "$T/runs/pred/labels/000000.txt" ] && ok || bad "save_txt lines"
out=$("$CYOLO" predict model="$R/weights/best.pt" source="$T/missing" 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF "$T/missing" <<<"$out" && ok || bad "predict missing source ($rc): $out"

# killed at random moments while training and checkpointing: last.pt is never unreadable
for delay in 1.3 2.1 2.9; do
    "$CYOLO" train model=yolo26n.yaml epochs=50 imgsz=64 batch=8 fraction=0.05 val=False project="$T/runs" name=kill \
        exist_ok=True >/dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ -e "$T/runs/kill/weights/last.pt" ]; then
        "$CYOLO" val model="$T/runs/kill/weights/last.pt" data=synth.yaml imgsz=64 project="$T/runs" >/dev/null 2>&1 && ok ||
            bad "last.pt unreadable after kill -9 at ${delay}s"
    else
        ok
    fi
done

# a second run with the same name increments it (exp2)
"$CYOLO" train model=yolo26n.yaml epochs=1 imgsz=64 batch=8 fraction=0.05 val=False project="$T/runs" name=exp >/dev/null 2>&1
[ -s "$T/runs/exp2/results.csv" ] && ok || bad "second run folder exp2"

out=$("$CYOLO" train model=yolo26n.yaml epoch=3 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF "'epoch' is not a valid YOLO argument. Similar arguments are i.e. ['epochs=100']" <<<"$out" && ok ||
    bad "unknown key ($rc): $out"
out=$("$CYOLO" train model=yolo26n.yaml mosaic=2 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF "'mosaic=2' is an invalid value" <<<"$out" && ok || bad "fraction range ($rc): $out"
out=$("$CYOLO" train model=yolo26n.yaml batch=eight 2>&1); rc=$?
[ $rc -eq 2 ] && grep -qF "'batch' must be an int" <<<"$out" && ok || bad "int type ($rc): $out"
out=$("$CYOLO" train model=yolo26n.yaml data="$T/nope.yaml" 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF "$T/nope.yaml" <<<"$out" && ok || bad "missing data yaml ($rc): $out"

# a one-channel model: cyolo reads RGB, so train / val / predict refuse it by name
mkdir -p "$T/gray" && { cat cfg/models/26/yolo26.yaml; echo 'channels: 1'; } >"$T/gray/yolo26.yaml"
out=$("$CYOLO" train model="$T/gray/yolo26n.yaml" epochs=1 imgsz=64 project="$T/runs" name=gray 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF "$T/gray/yolo26n.yaml takes 1 input channels" <<<"$out" && [ ! -d "$T/runs/gray" ] &&
    ok || bad "one-channel train ($rc): $out"
out=$("$CYOLO" val model="$T/gray/yolo26n.yaml" data=synth.yaml imgsz=64 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF "RGB, 3 channels" <<<"$out" && ok || bad "one-channel val ($rc): $out"
out=$("$CYOLO" predict model="$T/gray/yolo26n.yaml" source="$CYOLO_DATASETS/synth/images/val" imgsz=64 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qF "RGB, 3 channels" <<<"$out" && ok || bad "one-channel predict ($rc): $out"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
