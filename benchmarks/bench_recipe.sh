#!/usr/bin/env bash
# What the quality bar costs: the quick start's model trained at several budgets side by side, each scored on
# its own val split and on the quick start's 400 held-out designs. Made for one GPU (the trainings share it;
# 16 cores make the data): on an NVIDIA H200 the first six took about 8 minutes (the two 20 k runs were cut
# there by a time limit, at epoch 9 of 10 and 14 of 20), the last four 2.5. A CPU would take days.
#
#     FT=".venv/bin/ftensor" bash benchmarks/bench_recipe.sh [WORK_DIR]
#
# Prints one line per run: its last epoch's val metrics and its held-out metrics (the README quotes them).
set -u
FT=${FT:-.venv/bin/ftensor}
W=${1:-runs/recipe}
mkdir -p "$W"
$FT generate --num_samples 5000 --image_size 128 --variety seen --data_dir "$W/d5k" --workers 8 > "$W/gen5k.log" 2>&1 &
$FT generate --num_samples 20000 --image_size 128 --variety seen --seed 2 --data_dir "$W/d20k" --workers 8 > "$W/gen20k.log" 2>&1 &
$FT generate --num_samples 15000 --image_size 128 --variety seen --seed 2 --data_dir "$W/d15k" --workers 8 > "$W/gen15k.log" 2>&1 &
$FT generate --num_samples 400 --image_size 128 --variety held_out --seed 1 --data_dir "$W/held_out" > "$W/genho.log" 2>&1 &
wait
run() { # name data preset epochs batch lr dice
  $FT train --data_dir "$W/$2" --run "$W/$1" --preset "$3" --epochs "$4" --batch_size "$5" --lr "$6" --dice_weight "$7" \
    --degrade --num_workers 2 --save_period 0 > "$W/$1.log" 2>&1
  $FT val --run "$W/$1" --model "$W/$1/checkpoints/encoder_best.pth" --data_dir "$W/held_out" --json "$W/$1.held_out.json" \
    > "$W/$1.val.log" 2>&1
}
run quickstart       d5k  small 10 8  4e-3 2 &  # the quick start's recipe: 50 k sample visits
run text_weight_x2   d5k  small 10 8  4e-3 4 &
run unet             d5k  unet  10 8  1e-3 2 &
run epochs_30        d5k  small 30 8  4e-3 2 &  # 150 k visits
run data_20k         d20k small 10 8  4e-3 2 &  # 200 k visits
run data_20k_b16     d20k small 20 16 4e-3 2 &  # 400 k visits
wait
run data_15k_b8      d15k small 3 8  4e-3 2 &  # about the quick start's budget, in unique designs
run data_15k_b16     d15k small 3 16 4e-3 2 &
run data_15k_b16_lr8 d15k small 3 16 8e-3 2 &
run data_15k_b32_lr8 d15k small 3 32 8e-3 2 &
wait
for log in "$W"/*/logs/encoder_training_log.json; do
  name=$(basename "$(dirname "$(dirname "$log")")")
  python3 - "$log" "$W/$name.held_out.json" "$name" <<'PY'
import json, sys
log, held_out, name = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["metrics"], sys.argv[3]
last = log["epochs"][-1]
show = lambda m: "  ".join(f"{k} {m[k]:.3f}" for k in ("text_iou", "image_iou", "color_accuracy", "hierarchy_mse"))
print(f"{name:>16} epoch {last['epoch']:>2}  own val: {show(last['val_metrics'])}  held-out: {show(held_out)}")
PY
done
