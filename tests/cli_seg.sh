#!/usr/bin/env bash
# `cyolo val` and `cyolo predict` on segment models end to end: a tiny
# polygon dataset written here (cyolo synth's images, each box label turned
# into a 4-point polygon), validated with Box and Mask columns and Mask
# curves; predictions drawn with masks and saved as polygon lines. Training
# segment models stays refused until the segment loss lands.
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


echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
