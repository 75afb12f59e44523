#!/usr/bin/env bash
# Prints the postgresql.conf lines that turn on continuous WAL archiving to TK_BACKUP_URL:
#   archive-settings.sh [ARCHIVE_TIMEOUT_SECONDS] >> "$PGDATA/postgresql.conf"   (then restart)
# archive_timeout (default 60) bounds the loss when the primary's disk is lost: a WAL file is
# shipped when full (16 MB) or at the latest that many seconds after its first write. An idle
# server ships nothing (no new WAL, no switch).
set -euo pipefail
# shellcheck source=deploy/backup/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_url
timeout=${1:-60}
case $TK_BACKUP_URL$TK_BACKUP_DIR in
  *[\'\ \"\\\$\`]*) die "TK_BACKUP_URL and the scripts' path must not hold quotes, spaces, \\, \$ or \`" 2 ;;
esac
cat <<CONF
# --- WAL archiving to $TK_BACKUP_URL (deploy/backup) ---
wal_level = replica
archive_mode = on
archive_command = 'TK_BACKUP_URL=$TK_BACKUP_URL $TK_BACKUP_DIR/wal-archive.sh %p %f'
archive_timeout = $timeout
CONF
