#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, run and test the service — only those missing
# (checked with dpkg -s), so a second run is a fast no-op. Root runs apt-get directly; a normal
# user goes through sudo. Usage: deps.sh [bench] [container] Non-interactive: safe for CI (CI=true, no stdin).
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake ninja-build pkg-config git curl ca-certificates python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libpq-dev libhiredis-dev libsodium-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  postgresql-15 postgresql-client-15 redis-server redis-tools redis-sentinel rabbitmq-server
  librabbitmq-dev
  libcurl4-openssl-dev python3-aiosmtpd libjemalloc-dev
  nodejs chromium fonts-nanum haproxy nginx libnginx-mod-http-modsecurity modsecurity-crs
  libhpdf-dev libqrencode-dev poppler-utils python3-fonttools
  clang libclang-rt-14-dev
  patroni etcd-server
  # prometheus: the local Prometheus (run-local.sh) and promtool (deploy/prometheus/test.sh)
  prometheus
  # nft: the chaos harness's network partitions (rules inside its own network namespaces)
  nftables
)
# The web front-end needs npm: Debian's package, unless the installed Node.js brings its own
# (NodeSource's nodejs does, and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
# Optional groups, named on the command line: `deps.sh bench` adds what bench/run.sh needs.
for group in "$@"; do
  case "$group" in
    bench) PACKAGES+=(nginx-light wrk util-linux) ;;
    # deploy/image.sh: podman builds and runs the service image without a registry.
    container) PACKAGES+=(podman buildah runc debootstrap uidmap) ;;
    *) echo "deps: unknown group '$group'" >&2; exit 2 ;;
  esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

command -v apt-get >/dev/null || { echo "deps: apt-get not found; this script targets Debian 12" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null; then
  # A person at a terminal may type a password; without one (CI, pipes) never wait for input.
  if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
else
  echo "deps: missing packages (${missing[*]}) and not root, and sudo is not installed." >&2
  echo "deps: run this script as root once, or install sudo." >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# The postgresql, redis-server and redis-sentinel packages try to start their system-wide services from their
# post-install scripts (invoke-rc.d / deb-systemd-invoke). We never use those (our servers are
# started by the scripts on their own ports), and without systemd the attempt can fail the
# install, so a temporary policy-rc.d denies service starts while apt runs. An existing
# policy-rc.d is left untouched.
POLICY=/usr/sbin/policy-rc.d
added_policy=0
cleanup() { if [ $added_policy = 1 ]; then "${SUDO[@]}" rm -f "$POLICY"; fi; }
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# temporary, from scripts/deps.sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  added_policy=1
fi

APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${APT[@]}" update
"${APT[@]}" install --no-install-recommends "${missing[@]}"

still=()
for p in "${PACKAGES[@]}"; do installed "$p" || still+=("$p"); done
if [ ${#still[@]} -ne 0 ]; then
  echo "deps: still missing after install: ${still[*]}" >&2
  exit 1
fi
echo "deps: done"
