#!/usr/bin/env bash
# Writes everything that would be deployed into OUT, offline (no cloud account, no cluster):
#   OUT/cloudformation/  the AWS CDK app's CloudFormation templates (JSON) and asset manifest
#   OUT/k8s/pattern-a/   Kubernetes manifests (YAML): gateway, api, worker, KEDA, policies
#   OUT/k8s/pattern-b/   Kubernetes manifests (YAML): the single-role service
#   OUT/prometheus/      alert and recording rules for the Prometheus the cluster runs
# Installs the npm packages of deploy/cdk and deploy/k8s (npm ci) when missing.
#   bash deploy/synth.sh OUT
set -euo pipefail
out=${1:?usage: deploy/synth.sh OUT}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/cloudformation" "$out/k8s" "$out/prometheus"
bash "$here/cdk/synth.sh" "$out/cloudformation"
bash "$here/k8s/synth.sh" "$out/k8s"
mkdir -p "$out/prometheus"
cp "$here"/prometheus/rules/*.yml "$out/prometheus/"
echo "synthesised into $out:"
(cd "$out" && find . -type f -not -path './cloudformation/assembly/*' | sort | sed 's/^\.\//  /')
echo "  cloudformation/assembly/ (the whole cloud assembly: asset manifests, Lambda code)"
