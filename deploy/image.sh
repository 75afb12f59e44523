#!/usr/bin/env bash
# Builds the service image from deploy/Dockerfile with podman (no registry: the Debian 12 base is
# made here with debootstrap and imported under the name the Dockerfile's FROM uses), then runs it
# with host networking against a throw-away PostgreSQL + Redis until /readyz answers 200 and the
# black-box contract test (tests/e2e/flow.sh) passes through it. Stops everything on exit.
#   bash deploy/image.sh [--build-only] [--tag NAME]
# The first run downloads the base and compiles the service in the build stage (tens of minutes
# on two cores), which is why it is not part of the default test suite. State (images, the base
# root, podman's storage) lives in .local/podman.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$TK_ROOT"
tag=localhost/ticketing:latest build_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --build-only) build_only=1 ;;
    --tag) tag=${2:?}; shift ;;
    *) echo "usage: $0 [--build-only] [--tag NAME]" >&2; exit 2 ;;
  esac
  shift
done

bash scripts/deps.sh container >/dev/null
# podman runs as root here (rootless podman needs subordinate ids this sandbox lacks).
as_root() { if is_root; then "$@"; else sudo -n "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# podman as this sandbox allows it: runc (crun fails on hybrid cgroups), cgroupfs, file events,
# explicit ulimits, host networking, chroot isolation for builds.
state="$TK_ROOT/.local/podman"
mkdir -p "$state/storage" "$state/run" "$state/tmp"
# Containers may not raise a limit above what this process has (no CAP_SYS_RESOURCE).
# podman itself runs with a process limit of 32768 whatever the shell's.
nofile=$(ulimit -Sn) nproc=4096
[ "$nofile" = unlimited ] && nofile=65536
cat >"$state/containers.conf" <<CONF
[containers]
netns = "host"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$state/tmp"
CONF
# Overlay (the kernel's overlayfs, as root on ext4) shares the layers between images and build
# steps; vfs copies every layer in full (tens of GB for this build) and is only the fallback
# where an overlay mount is refused. TK_PODMAN_DRIVER overrides the choice.
overlay_mounts() {
  local d; d=$(mktemp -d "$state/tmp/probe-XXXX")
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  local ok=1
  as_root mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null &&
    { as_root umount "$d/m"; ok=0; }
  as_root rm -rf "$d"
  return $ok
}
driver=${TK_PODMAN_DRIVER:-}
if [ -z "$driver" ]; then if overlay_mounts; then driver=overlay; else driver=vfs; fi; fi
# A store made by the other driver is unreadable to this one: it starts afresh.
if [ -f "$state/driver" ] && [ "$(cat "$state/driver")" != "$driver" ]; then
  as_root rm -rf "$state/storage" "$state/run"; mkdir -p "$state/storage" "$state/run"
fi
echo "$driver" >"$state/driver"
log "podman storage: $driver"
cat >"$state/storage.conf" <<CONF
[storage]
driver = "$driver"
graphroot = "$state/storage"
runroot = "$state/run"
CONF
export CONTAINERS_CONF="$state/containers.conf" CONTAINERS_STORAGE_CONF="$state/storage.conf" \
  BUILDAH_ISOLATION=chroot TMPDIR="$state/tmp"
pm() { as_root env CONTAINERS_CONF="$CONTAINERS_CONF" CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF" \
  BUILDAH_ISOLATION=chroot TMPDIR="$TMPDIR" podman "$@"; }

base=docker.io/library/debian:12-slim
if ! pm image exists "$base"; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  log "making the Debian 12 base with debootstrap from $mirror"
  root="$state/base-root"
  as_root rm -rf "$root"
  as_root debootstrap --variant=minbase bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1 ||
    { tail -20 "$state/debootstrap.log" >&2; exit 1; }
  as_root rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb
  as_root tar -C "$root" -c . | pm import - "$base" >/dev/null
  as_root rm -rf "$root"
fi

# The CA this machine trusts beyond Debian's (NODE_EXTRA_CA_CERTS, e.g. a proxy that inspects
# TLS) for the build stage's npm ci; removed from the context afterwards.
build_ca=deploy/image/build-ca/ca.crt
rm -f "$build_ca"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cp "$NODE_EXTRA_CA_CERTS" "$build_ca"; fi
log "building $tag (podman build --pull=never -f deploy/Dockerfile)"
t0=$(date +%s)
built=0
# Docker's image format: the OCI format has no HEALTHCHECK, which podman would drop.
pm build --pull=never --format docker -f deploy/Dockerfile -t "$tag" . >"$state/build.log" 2>&1 && built=1
rm -f "$build_ca"
[ $built = 1 ] || { tail -40 "$state/build.log" >&2; exit 1; }
log "built in $(( $(date +%s) - t0 )) s; size $(pm image inspect "$tag" --format '{{.Size}}' | numfmt --to=iec)"
uid=$(pm run --rm --no-healthcheck --entrypoint id "$tag" -u)
[ "$uid" != 0 ] || { echo "image: the runtime user is root" >&2; exit 1; }
[ $build_only = 1 ] && exit 0

work=$(mktemp -d /tmp/tk-image-XXXX)
name="tk-image-$$"
cleanup() {
  pm rm -f "$name" >/dev/null 2>&1 || true
  bash tests/support/servers.sh stop "$work" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bash tests/support/servers.sh start "$work" >/dev/null
set -a; . "$work/env"; set +a
port=$(free_port); ops=$(free_port)
# The contract test's own limits (flow.sh checks the per-address rate and the sign-up limit).
# Without systemd podman cannot put the health check on a timer and says so on every start (it
# is run once below, pm healthcheck run): that message is dropped, any other is shown.
pm run -d --name "$name" --network host \
  -e TICKETING_PG_URL -e TICKETING_REDIS_URL -e TICKETING_HTTP_HOST=127.0.0.1 \
  -e TICKETING_HTTP_PORT="$port" -e TICKETING_OPS_PORT="$ops" -e TICKETING_RATE_PER_ADDRESS=20 \
  -e TICKETING_SECRET="image-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  -e TICKETING_ADMIN_TOKEN=image-admin "$tag" 2> >(grep -v 'systemd connection' >&2) >/dev/null
for i in $(seq 150); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ops/readyz")" = 200 ] && break
  pm container exists "$name" && [ "$(pm inspect -f '{{.State.Running}}' "$name")" = true ] ||
    { pm logs "$name" | tail -30 >&2; echo "image: the container stopped" >&2; exit 1; }
  [ "$i" = 150 ] && { pm logs "$name" | tail -30 >&2; echo "image: /readyz not 200 in 30 s" >&2; exit 1; }
  sleep 0.2
done
log "container ready (uid $uid); running the contract test through it"
bash tests/e2e/flow.sh "http://127.0.0.1:$port" image-admin "http://127.0.0.1:$ops"
pm healthcheck run "$name" >/dev/null || { echo "image: the container's health check failed" >&2; exit 1; }
log "health check: healthy"
