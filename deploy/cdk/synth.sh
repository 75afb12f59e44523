#!/usr/bin/env bash
# Synthesises the CloudFormation templates offline, without the CDK CLI or an AWS account.
#   bash deploy/cdk/synth.sh OUT [key=value ...]   e.g. domainName=tickets.example.com region=ap-northeast-2
# OUT receives one JSON template per stack (nested stacks included); OUT/assembly holds the whole
# cloud assembly (templates, asset manifests, Lambda code and layers) as `cdk deploy --app` takes it.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 OUT [key=value ...]" >&2
  exit 2
fi
out=$(realpath -m "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/setup.sh"
context='{}'
for kv in "$@"; do
  [[ $kv == *=* ]] || { echo "not key=value: $kv" >&2; exit 2; }
  context=$(node -e 'const c = JSON.parse(process.argv[1]); const i = process.argv[2].indexOf("=");
    c[process.argv[2].slice(0, i)] = process.argv[2].slice(i + 1); console.log(JSON.stringify(c));' "$context" "$kv")
done
mkdir -p "$out"
rm -rf "$out/assembly"
(cd "$here" && CDK_CONTEXT_JSON=$context nice -n 19 node dist/bin/app.js "$out/assembly")
cp "$out"/assembly/*.template.json "$out"/
ls "$out"/*.template.json
