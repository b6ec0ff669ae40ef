#!/usr/bin/env bash
# The distillation workflow on the built-in dataset, small enough for a
# 2-core machine (about 10 minutes): train a yolo26s teacher, then a yolo26n
# student without and with distill_model= that teacher (same epochs, seed and
# settings), and print the three models' mAP50-95 side by side.
#
#   bash scripts/distill_demo.sh [imgsz=160] [epochs=20] [teacher_epochs=20] [batch=16] [dis=6.0]
#
# Full-size settings for real use (README): imgsz=640, epochs=100 for all
# three, on your own data=.
set -euo pipefail
cd "$(dirname "$0")/.."
IMGSZ=160 EPOCHS=20 TEACHER_EPOCHS=20 BATCH=16 DIS=6.0
for kv in "$@"; do
    case "$kv" in
    imgsz=*) IMGSZ=${kv#*=} ;;
    epochs=*) EPOCHS=${kv#*=} ;;
    teacher_epochs=*) TEACHER_EPOCHS=${kv#*=} ;;
    batch=*) BATCH=${kv#*=} ;;
    dis=*) DIS=${kv#*=} ;;
    *) echo "unknown argument $kv (imgsz= epochs= teacher_epochs= batch= dis=)" >&2; exit 2 ;;
    esac
done
CYOLO=${CYOLO:-build/cyolo}
PROJECT=runs/distill_demo
common=(data=synth.yaml imgsz="$IMGSZ" batch="$BATCH" seed=0 project="$PROJECT" exist_ok=True)

run() { # name, arguments...
    local name=$1
    shift
    echo "== $name: $CYOLO train $* ${common[*]} name=$name"
    "$CYOLO" train "$@" "${common[@]}" name="$name" | grep -E "^ +[0-9]+/[0-9]+ |^ +all |Results saved|distill:"
}

start=$(date +%s)
run teacher model=yolo26s.yaml epochs="$TEACHER_EPOCHS"
run student model=yolo26n.yaml epochs="$EPOCHS"
run distilled model=yolo26n.yaml epochs="$EPOCHS" distill_model="$PROJECT/teacher/weights/best.pt" dis="$DIS"

# best mAP50-95 (the fitness best.pt was chosen by) and mAP50 of that epoch
best() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "metrics/mAP50-95(B)") m = i; if ($i == "metrics/mAP50(B)") h = i } next }
             $m + 0 > b + 0 || NR == 2 { b = $m; b50 = $h } END { printf "%.4f %.4f", b, b50 }' "$PROJECT/$1/results.csv"
}
printf '\n%-40s %10s %10s\n' "model (imgsz $IMGSZ)" "mAP50-95" "mAP50"
for row in "teacher:yolo26s teacher, $TEACHER_EPOCHS epochs" "student:yolo26n, $EPOCHS epochs" \
    "distilled:yolo26n distilled (dis=$DIS), $EPOCHS epochs"; do
    read -r m m50 <<<"$(best "${row%%:*}")"
    printf '%-40s %10s %10s\n' "${row#*:}" "$m" "$m50"
done
echo "weights: $PROJECT/{teacher,student,distilled}/weights/best.pt; $(( $(date +%s) - start )) s in all"
