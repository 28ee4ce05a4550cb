#!/usr/bin/env bash
# The main job on a CPU: generate → train → export (+ parity) → predict. About 20 minutes on 2 cores.
set -euo pipefail
export BENTOML_DO_NOT_TRACK=True
FT=.venv/bin/ftensor
DATA=data/quickstart_128
RUN=runs/quickstart

$FT generate --num_samples 5000 --image_size 128 --data_dir "$DATA"
$FT dataset-stats --data_dir "$DATA"
$FT train --data_dir "$DATA" --output_dir "$RUN" --preset small --epochs 6 --batch_size 8 --lr 2e-3
$FT train --validate --checkpoint "$RUN/checkpoints/encoder_best.pth" --data_dir "$DATA" --json "$RUN/val_metrics.json"
$FT export --checkpoint "$RUN/checkpoints/encoder_best.pth" --output "$RUN/exports/encoder.onnx" --data_dir "$DATA" --int8
