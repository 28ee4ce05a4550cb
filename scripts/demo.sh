#!/usr/bin/env bash
# The main job, end to end on a CPU: generate a dataset and look at it.
set -euo pipefail
export BENTOML_DO_NOT_TRACK=True
FT=.venv/bin/ftensor
DATA=data/synthetic_dataset

$FT generate --num_samples 1000 --data_dir "$DATA"
$FT dataset-stats --data_dir "$DATA"
