#!/usr/bin/env bash
# The main job: set up what is missing, build, and run the demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh run
exec node scripts/demo.mjs "$@"
