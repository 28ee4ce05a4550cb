#!/usr/bin/env bash
# The main job on a CPU: generate → train → export (+ parity, int8) → predict → val, every output under
# runs/quickstart. The model trains on designs of many proportions and on the `seen` part of the
# generator's variety, and is scored at the end on the `held_out` part: typefaces, layouts and picture
# kinds it never saw. It fine-tunes the weights a clone ships (weights/README.md: made on a GPU by
# scripts/pretrain.sh from other designs of the same variety) for one epoch; `WEIGHTS= make demo` trains
# from scratch instead (10 epochs on twice the data: 83 minutes on a 2-core AVX2-only CPU) into runs/scratch.
set -euo pipefail
export BENTOML_DO_NOT_TRACK=True
FT=.venv/bin/ftensor
WEIGHTS=${WEIGHTS-weights/small_128.pth}
HELD_OUT=data/held_out_128
SIZES=data/seen_sizes_128
if [ -n "$WEIGHTS" ]; then
  DATA=data/quickstart_128 RUN=runs/quickstart SAMPLES=2500
  TRAIN=(--weights "$WEIGHTS" --epochs 1 --lr 3e-5 --val_fraction 0.2)
else
  DATA=data/scratch_128 RUN=runs/scratch SAMPLES=5000
  TRAIN=(--epochs 10 --lr 4e-3)
fi
$FT generate --num_samples "$SAMPLES" --image_size 128 --variety seen --data_dir "$DATA"
$FT dataset-stats --data_dir "$DATA"
$FT train --data_dir "$DATA" --run "$RUN" --preset small --batch_size 8 --dice_weight 2 --mse_weight 10 \
  --hierarchy_balance 0.5 --degrade "${TRAIN[@]}"
$FT train --validate --run "$RUN" --data_dir "$DATA" --json "$RUN/val_metrics.json"
$FT export --run "$RUN" --data_dir "$DATA" --int8
# Designs of typefaces, layouts and pictures the model has never seen (another seed), predicted without PyTorch …
$FT generate --num_samples 400 --image_size 128 --variety held_out --seed 1 --data_dir "$HELD_OUT"
$FT predict --run "$RUN" --input "$HELD_OUT/images" --save_viz
# … and scored against their labels, from the exported ONNX model (no PyTorch): $RUN/val/.
$FT val --run "$RUN" --data_dir "$HELD_OUT"
# Per size on enough designs: 2,200 more like its training data (another seed), 143-614 of each of the 11
# sizes, where the val split's 24-48 a size move its per-size figures by ±0.02: $RUN/val_sizes/.
$FT generate --num_samples 2200 --image_size 128 --variety seen --seed 2 --data_dir "$SIZES"
$FT val --run "$RUN" --data_dir "$SIZES" --output "$RUN/val_sizes"
echo
echo "Done. Serve the model over HTTP:  $FT serve --run $RUN --port 3000"
