#!/usr/bin/env bash
# Writes the Kubernetes manifests of both layouts: OUT/pattern-a/*.yaml and OUT/pattern-b/*.yaml.
#   bash deploy/k8s/synth.sh OUT [SETTINGS.json]
# Offline once node_modules is installed (npm ci when it is missing or older than the lock file).
# K8S_IMAGE_REGISTRY, K8S_IMAGE_TAG and K8S_NAMESPACE override the settings (README.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 OUT [SETTINGS.json]" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
settings=""
if [ $# -ge 2 ]; then settings=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); fi

cd "$here"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  nice -n 19 npm ci --no-audit --no-fund >&2
fi
nice -n 19 node_modules/.bin/tsc -p tsconfig.json
node dist/src/main.js "$out" ${settings:+"$settings"}
