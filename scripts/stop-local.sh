#!/usr/bin/env bash
# Stops what scripts/run-local.sh started: the HA edge and balancer, the service (SIGTERM, then
# SIGKILL after 15 s), or pattern A's front, API processes, workers and RabbitMQ; then the SMTP
# sink, Redis (and the HA layout's Redis nodes and Sentinels) and PostgreSQL (and the HA layout's
# Patroni nodes and etcd, their data kept). Prometheus (.local/prometheus) first. Safe to run when
# nothing is running.
#   --wipe   also deletes the local data (.local/: databases, logs, generated secrets)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wipe=0
case ${1:-} in
  "") ;;
  --wipe) wipe=1 ;;
  *) echo "usage: $0 [--wipe]" >&2; exit 2 ;;
esac

prom_down
ha_front_stop
service_stop
pattern_a_stop
rabbitmq_down
smtp_stop
redis_stop
ha_redis_down
pg_stop
if [ $wipe = 1 ]; then ha_pg_down wipe; else ha_pg_down; fi

if [ $wipe = 1 ]; then
  pgdir=$(pg_dir)
  if [ "$pgdir" != "$TK_LOCAL/pg" ]; then
    log "removing $(dirname "$pgdir")"
    rm -rf "$(dirname "$pgdir")"
  fi
  log "removing $TK_LOCAL"
  rm -rf "$TK_LOCAL"
fi
log "stopped"
