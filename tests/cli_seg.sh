#!/usr/bin/env bash
# `cyolo val` and `cyolo predict` on segment models end to end: a tiny
# polygon dataset written here (cyolo synth's images, each box label turned
# into a 4-point polygon), validated with Box and Mask columns and Mask
# curves; predictions drawn with masks and saved as polygon lines; a short
# training run (Ultralytics' segment columns in results.csv, weights, resume)
# and a distilled one (a segment teacher; a detect teacher refused).
set -u
CYOLO="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
. "$(dirname "$0")/lib_expect.sh"

"$CYOLO" synth out="$T/ds" n_train=4 n_val=6 imgsz=96 >/dev/null || bad "synth"
for f in "$T"/ds/labels/*/*.txt; do
    awk '{x1=$2-$4/2; x2=$2+$4/2; y1=$3-$5/2; y2=$3+$5/2;
          printf "%d %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f\n",$1,x1,y1,x2,y1,x2,y2,($2),y2}' "$f" >"$f.poly" &&
        mv "$f.poly" "$f"
done
printf 'path: %s\ntrain: images/train\nval: images/val\nnames:\n  0: circle\n  1: square\n  2: triangle\n  3: star\n  4: ring\n  5: cross\n' \
    "$T/ds" >"$T/seg.yaml"

for m in yolov8n-seg.yaml yolo26n-seg.yaml; do
    out=$("$CYOLO" val model=$m data="$T/seg.yaml" imgsz=96 batch=4 project="$T/runs" name=$m 2>&1); rc=$?
    [ $rc -eq 0 ] && ok || bad "$m val exit $rc: $out"
    grep -qE '^ +Class +Images +Instances +Box\(P +R +mAP50 +mAP50-95\) +Mask\(P +R +mAP50 +mAP50-95\)$' <<<"$out" &&
        ok || bad "$m val header: $out"
    # the all row: 6 images, 26 instances, then 8 numbers
    grep -qE '^ +all +6 +26( +[0-9.e-]+){8}$' <<<"$out" && ok || bad "$m all row: $out"
    [ -s "$T/runs/$m/MaskPR_curve.png" ] && [ -s "$T/runs/$m/BoxPR_curve.png" ] && ok || bad "$m curves"
done

out=$("$CYOLO" predict model=yolov8n-seg.yaml source="$T/ds/images/val" imgsz=96 conf=0.0001 save_txt=True \
    project="$T/runs" name=pred 2>&1); rc=$?
[ $rc -eq 0 ] && ok || bad "predict exit $rc: $out"
[ "$(ls "$T/runs/pred/"*.jpg 2>/dev/null | wc -l)" -eq 6 ] && ok || bad "6 annotated images"
L="$T/runs/pred/labels/000000.txt"
# polygon lines: class, then at least 3 normalised x y pairs
[ -s "$L" ] && awk 'NF < 7 || NF % 2 == 0 { exit 1 } { for (i = 2; i <= NF; i++) if ($i < 0 || $i > 1) exit 1 }' "$L" &&
    ok || bad "save_txt polygons: $(head -c 300 "$L")"

# training: two epochs, the columns SegmentationTrainer writes, then resume
R="$T/runs/segtrain"
out=$("$CYOLO" train model=yolo26n-seg.yaml data="$T/seg.yaml" epochs=2 imgsz=96 batch=4 workers=1 plots=False \
    save_period=1 project="$T/runs" name=segtrain 2>&1); rc=$?
[ $rc -eq 0 ] && ok || bad "train exit $rc: $out"
grep -qE '^ +Epoch +GPU_mem +box_loss +seg_loss +cls_loss +dfl_loss +sem_loss +Instances +Size$' <<<"$out" &&
    ok || bad "train progress header: $out"
want="epoch,time,train/box_loss,train/seg_loss,train/cls_loss,train/dfl_loss,train/sem_loss,metrics/precision(B),metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),metrics/precision(M),metrics/recall(M),metrics/mAP50(M),metrics/mAP50-95(M),val/box_loss,val/seg_loss,val/cls_loss,val/dfl_loss,val/sem_loss,lr/pg0,lr/pg1,lr/pg2"
[ "$(head -1 "$R/results.csv" 2>/dev/null)" = "$want" ] && ok || bad "results.csv header: $(head -1 "$R/results.csv")"
[ "$(wc -l <"$R/results.csv")" -eq 3 ] && ok || bad "two epoch rows"
awk -F, 'NR > 1 { if ($4 <= 0 || $7 <= 0) exit 1 }' "$R/results.csv" && ok || bad "seg and sem losses positive"
[ -s "$R/weights/best.pt" ] && [ -s "$R/weights/last.pt" ] && [ -s "$R/weights/epoch1.pt" ] && ok || bad "weights"
grep -q "^task: segment" "$R/args.yaml" && grep -q "^overlap_mask: true" "$R/args.yaml" && ok || bad "args.yaml"
out=$("$CYOLO" val model="$R/weights/best.pt" data="$T/seg.yaml" imgsz=96 batch=4 project="$T/runs" name=v2 2>&1)
[ $? -eq 0 ] && grep -q "Mask(P" <<<"$out" && ok || bad "val of the trained best.pt: $out"
# resuming from epoch 1 trains epoch 2 again with the same train losses
row2=$(sed -n 3p "$R/results.csv" | cut -d, -f3-7)
"$CYOLO" train model="$R/weights/epoch0.pt" resume=True >/dev/null 2>&1 && ok || bad "resume"
[ "$(tail -1 "$R/results.csv" | cut -d, -f1)" = 2 ] && [ "$(tail -1 "$R/results.csv" | cut -d, -f3-7)" = "$row2" ] &&
    ok || bad "resumed epoch 2 differs: $(tail -1 "$R/results.csv") vs $row2"
expect nonzero "training to 2 epochs is finished, nothing to resume" -- "$CYOLO" train model="$R/weights/last.pt" resume=True

# distillation: a segment teacher (a YAML with formula weights: checks only), and a detect teacher refused
out=$("$CYOLO" train model=yolo26n-seg.yaml data="$T/seg.yaml" epochs=1 imgsz=96 batch=4 workers=1 plots=False val=False \
    distill_model=yolo26s-seg.yaml project="$T/runs" name=kd 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "dis_loss" <<<"$out" && ok || bad "distilled training: $out"
head -1 "$T/runs/kd/results.csv" | grep -q "train/sem_loss,train/dis_loss" && ok || bad "dis_loss column"
expect nonzero "the teacher is a detect model and the student (yolo26n-seg) a segment model" -- "$CYOLO" train \
    model=yolo26n-seg.yaml data="$T/seg.yaml" epochs=1 imgsz=96 distill_model=yolo26s.yaml project="$T/runs" name=kd2

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
