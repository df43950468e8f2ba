#!/usr/bin/env bash
# The main job: set up what is missing, build, then train the default CNN on Fashion-MNIST with the
# wasmgrad CLI and print the test accuracy; the model and its curves are saved in runs/cnn.
# Extra arguments go to `wasmgrad train` (e.g. `npm start -- --epochs 3 --model mlp`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh run
exec node packages/wasmgrad/dist/cli/bin.js train --model cnn --epochs 1 --out runs/cnn "$@"
