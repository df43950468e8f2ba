#!/usr/bin/env bash
# The main job: set up what is missing, build, and train the MLP on Fashion-MNIST.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh run
exec node scripts/train.mjs "$@"
