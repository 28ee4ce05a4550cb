#!/usr/bin/env bash
# Whether a change beats the spread between training seeds: the from-scratch quick start's recipe (`WEIGHTS=
# make demo`) trained with several seeds for each arm named, every run scored on its own val split and on
# 400 held-out designs. An arm is a checkout (this one, a release's worktree…), optionally followed by `:`
# and training flags that replace or add to the quick start's (`.:--mse_weight 1`). Made for one GPU (16
# cores make the data, the trainings share the GPU): on an NVIDIA H100, nine runs took 5 minutes and twelve
# 7. On 2 CPU cores a single run takes half an hour.
#
#     git worktree add /tmp/v0.5.0 d975ed1       # a checkout to compare with
#     FT_PYTHON=python3 bash benchmarks/bench_seeds.sh runs/seeds . /tmp/v0.5.0
#     FT_PYTHON=python3 bash benchmarks/bench_seeds.sh runs/loss . '.:--mse_weight 1' '.:--mse_weight 3'
#     bash benchmarks/bench_seeds.sh --summary runs/seeds     # the table again, from the runs' files
#
# Runs are named ARM_sSEED (ARM: the checkout folder's name, `.` being `this`, then the flags' words joined
# by `_`). Prints a markdown table: per arm, the mean ± standard deviation over seeds of the last epoch's
# own-val metrics and of the held-out metrics and the text gap (own − held-out); then per arm the held-out
# hierarchy error on each role's pixels; then each run's line.
set -u
PY=${FT_PYTHON:-$PWD/.venv/bin/python}
summarise() {
  "$PY" - "$1" <<'PY'
import json, statistics, sys
from pathlib import Path

work = Path(sys.argv[1])
keys = ("text_iou", "image_iou", "color_accuracy", "hierarchy_mse")
runs: dict[str, list[tuple[str, dict, dict]]] = {}
for log in sorted(work.glob("*_s*/logs/encoder_training_log.json")):
    name = log.parent.parent.name
    held_out = work / f"{name}.held_out.json"
    if held_out.exists():
        own = json.loads(log.read_text())["epochs"][-1]["val_metrics"]
        report = json.loads(held_out.read_text())
        runs.setdefault(name.rsplit("_s", 1)[0], []).append((name, own, {**report["metrics"], **report}))


def spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.pstdev(values):.3f}"


print("| arm | seeds | own val: text / image / colour / MSE | held-out: text / image / colour / MSE | text gap |")
print("|---|---|---|---|---|")
for arm, members in runs.items():
    own = " / ".join(spread([m[1][k] for m in members]) for k in keys)
    held = " / ".join(spread([m[2][k] for m in members]) for k in keys)
    print(f"| {arm} | {len(members)} | {own} | {held} | {spread([m[1]['text_iou'] - m[2]['text_iou'] for m in members])} |")
print()
roles = list(next(iter(runs.values()))[0][2]["hierarchy_by_role"]) if runs else []
print("held-out hierarchy, mean |error| on the pixels of each role (mean over seeds):")
print("| arm | " + " | ".join(roles) + " |")
print("|---|" + "---|" * len(roles))
for arm, members in runs.items():
    errors = [statistics.mean(m[2]["hierarchy_by_role"][role]["mean_abs_error"] for m in members) for role in roles]
    print(f"| {arm} | " + " | ".join(f"{e:.3f}" for e in errors) + " |")
print()
for arm, members in runs.items():
    for name, own, held in members:
        print(f"{name:>22}  own " + " ".join(f"{own[k]:.4f}" for k in keys) + "  held-out " + " ".join(f"{held[k]:.4f}" for k in keys))
PY
}
if [ "${1:-}" = "--summary" ]; then summarise "${2:?the work folder}"; exit; fi
W=${1:-runs/seeds}
shift || true
ARMS=("${@:-.}")
SEEDS=${SEEDS:-0 1 2}
export PYTHONUNBUFFERED=1 BENTOML_DO_NOT_TRACK=True OMP_NUM_THREADS=1
mkdir -p "$W"
W=$(cd "$W" && pwd)
here=$PWD
FT="$PY -m ftensor.cli"
PYTHONPATH=$here $FT generate --num_samples 5000 --image_size 128 --variety seen --data_dir "$W/data" --workers 14 > "$W/generate.log" 2>&1 &
PYTHONPATH=$here $FT generate --num_samples 400 --image_size 128 --variety held_out --seed 1 --data_dir "$W/held_out" --workers 2 > "$W/generate_held_out.log" 2>&1 &
wait
for arm in "${ARMS[@]}"; do
  checkout=${arm%%:*}; flags=; [ "$arm" != "$checkout" ] && flags=${arm#*:}
  name=$(basename "$(cd "$checkout" && pwd)"); [ "$checkout" = "." ] && name=this
  for word in $flags; do name+=_${word#--}; done
  for seed in $SEEDS; do
    (
      cd "$checkout" && export PYTHONPATH=$PWD
      $FT train --data_dir "$W/data" --run "$W/${name}_s$seed" --preset small --epochs 10 --batch_size 8 --lr 4e-3 \
        --dice_weight 2 --mse_weight 10 --hierarchy_balance 0.5 --degrade --num_workers 1 --save_period 0 --seed "$seed" $flags > "$W/${name}_s$seed.log" 2>&1
      $FT val --run "$W/${name}_s$seed" --model "$W/${name}_s$seed/checkpoints/encoder_best.pth" --data_dir "$W/held_out" \
        --json "$W/${name}_s$seed.held_out.json" > "$W/${name}_s$seed.val.log" 2>&1
    ) &
  done
done
wait
summarise "$W"
