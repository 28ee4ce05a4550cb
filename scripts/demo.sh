#!/usr/bin/env bash
# The main job on a CPU: generate → train → export (+ parity, int8) → predict, every output under runs/quickstart.
set -euo pipefail
export BENTOML_DO_NOT_TRACK=True
FT=.venv/bin/ftensor
DATA=data/quickstart_128
UNSEEN=data/unseen_128
RUN=runs/quickstart

$FT generate --num_samples 5000 --image_size 128 --data_dir "$DATA"
$FT dataset-stats --data_dir "$DATA"
$FT train --data_dir "$DATA" --run "$RUN" --preset small --epochs 6 --batch_size 8 --lr 4e-3 --dice_weight 2
$FT train --validate --run "$RUN" --data_dir "$DATA" --json "$RUN/val_metrics.json"
$FT export --run "$RUN" --data_dir "$DATA" --int8
# Designs the model has never seen (another seed), predicted without PyTorch.
$FT generate --num_samples 64 --image_size 128 --seed 1 --data_dir "$UNSEEN"
$FT predict --run "$RUN" --input "$UNSEEN/images" --save_viz
# ... and scored against their labels, from the exported ONNX model (no PyTorch): runs/quickstart/val/.
$FT val --run "$RUN" --data_dir "$UNSEEN"
echo
echo "Done. Serve the model over HTTP:  $FT serve --run $RUN --port 3000"
