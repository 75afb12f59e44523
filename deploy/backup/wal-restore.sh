#!/usr/bin/env bash
# PostgreSQL's restore_command: fetches one archived WAL file (or timeline history file).
#   restore_command = 'TK_BACKUP_URL=file:///backups /path/to/deploy/backup/wal-restore.sh %f %p'
# (restore.sh writes it.) Exit 1 when the archive has no such file, which PostgreSQL expects at
# the end of the archive and when it probes for timeline history files; %p is written whole or
# not at all.
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# = 2 ] || die "usage: wal-restore.sh %f %p" 2
name=$1 dest=$2
need_url
store exists "wal/$name.gz" || exit 1
tmp="$dest.tk-restore"
trap 'rm -f "$tmp"' EXIT
if ! store get "wal/$name.gz" - | gzip -dc >"$tmp"; then
  die "could not fetch wal/$name.gz"
fi
mv -f "$tmp" "$dest"
