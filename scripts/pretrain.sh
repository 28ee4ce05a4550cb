#!/usr/bin/env bash
# The quick start's starting weights, weights/small_128.pth: its model and loss flags trained on one GPU on
# 40,000 designs for 190,000 sample visits (5.7 minutes on an H100). The data is another seed (100) of the
# `seen` variety, so neither the quick start's designs (seed 0) nor the held-out variety is in it. Run from
# the repository root on a CUDA machine:
#
#     FT_PYTHON=python3 bash scripts/pretrain.sh            # then: cp runs/pretrain/small_128.pth weights/
#
# NUM_SAMPLES and EPOCHS make it smaller (a CPU smoke test); the weights file records the whole run config.
set -euo pipefail
export BENTOML_DO_NOT_TRACK=True
PY=${FT_PYTHON:-.venv/bin/python}
W=${1:-runs/pretrain}
NUM_SAMPLES=${NUM_SAMPLES:-40000}
EPOCHS=${EPOCHS:-5}
FT="$PY -m ftensor.cli"
$FT generate --num_samples "$NUM_SAMPLES" --image_size 128 --variety seen --seed 100 --data_dir "$W/data"
$FT train --data_dir "$W/data" --run "$W/run" --preset small --epochs "$EPOCHS" --batch_size 16 --lr 4e-3 \
  --val_fraction 0.05 --dice_weight 2 --mse_weight 10 --hierarchy_balance 0.5 --degrade --save_period 1
cp "$W/run/checkpoints/encoder_epoch_$(printf %03d "$EPOCHS").pth" "$W/small_128.pth"
