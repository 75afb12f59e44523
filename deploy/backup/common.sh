# shellcheck shell=bash
# Shared helpers for deploy/backup/*.sh (sourced, not run).

TK_BACKUP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '%s: error: %s\n' "$(basename "$0")" "$1" >&2; exit "${2:-1}"; }

is_root() { [ "$(id -u)" = 0 ]; }
# Runs a command as the user PostgreSQL runs as: `postgres` when called as root (PostgreSQL
# refuses to run as root), else the caller. From /, which `postgres` can always enter.
as_pg() { if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# PostgreSQL's binaries: PG_BIN if set, else the newest /usr/lib/postgresql/*/bin, else PATH.
pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then printf '%s\n' "$PG_BIN"; return; fi
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [ -x "$d/pg_ctl" ]; then printf '%s\n' "$d"; else dirname "$(command -v pg_ctl || echo /usr/bin/pg_ctl)"; fi
}

# The object store, with the caller's TK_BACKUP_URL.
store() { "$TK_BACKUP_DIR/objstore.sh" "$@"; }

need_url() {
  [ -n "${TK_BACKUP_URL:-}" ] || die "TK_BACKUP_URL is not set (file:///path or s3://bucket/prefix)" 2
}

# now_stamp: a UTC timestamp usable in keys, sorting in time order (20261204T211500Z).
now_stamp() { date -u +%Y%m%dT%H%M%SZ; }

# info_field FILE NAME: the value of NAME=value in a key=value file.
info_field() { sed -n "s/^$2=//p" "$1" | head -1; }

# to_epoch TIME: seconds since the epoch (with fractions) of a time GNU date understands, e.g.
# '2026-12-04 21:30:00.123456+00' or '2026-12-04T21:30:00Z'. Fails on anything else.
to_epoch() { date -u -d "$1" +%s.%N 2>/dev/null; }

# epoch_le A B: A <= B for decimal seconds.
epoch_le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
