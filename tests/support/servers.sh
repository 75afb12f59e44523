#!/usr/bin/env bash
# Start/stop a throw-away PostgreSQL 15 + Redis 7 + SMTP sink on free loopback ports under DIR.
#   servers.sh start DIR [--no-pg] -> writes DIR/env (TICKETING_PG_URL, TICKETING_REDIS_URL,
#     TICKETING_SMTP_URL, ports, TK_MAIL_DIR); --no-pg: Redis and the SMTP sink only (for a
#     caller that takes PostgreSQL from the Patroni fixture)
#   servers.sh stop DIR    -> stops both and removes the data
#   servers.sh redis-stop|redis-kill|redis-wipe|redis-start|redis-pause|redis-resume|pg-pause|
#              pg-resume|pg-stop|
#     pg-start DIR -> fault switches for tests (redis-wipe: kill -9 and delete its data, so the
#     next redis-start comes back empty)
#   servers.sh smtp-refuse|smtp-accept DIR -> the SMTP sink answers DATA with 451 (temporary
#     refusal) / accepts again. The sink (tests/support/smtp_sink.py, aiosmtpd) starts with the
#     others and keeps every accepted message as a file in DIR/mail (TK_MAIL_DIR).
#   servers.sh rabbitmq-start|rabbitmq-stop DIR -> a RabbitMQ node of its own (node name, ports,
#     epmd, cookie, data) under DIR, env in DIR/env (TICKETING_AMQP_URL, TK_AMQP_PORT). A separate
#     fixture with its own DIR: only the tests that need a broker pay its ~7 s start.
#   servers.sh rabbitmq-halt|rabbitmq-kill|rabbitmq-pause|rabbitmq-thaw|rabbitmq-resume DIR ->
#     fault switches: stop the node cleanly / kill -9 it / SIGSTOP it (connections stay open,
#     nothing answers) / SIGCONT it; resume starts a stopped node in place (same ports and data)
#   servers.sh sentinel-start|sentinel-stop DIR -> Redis Sentinel, a fixture of its own: a primary
#     and one replica (redis-server) and three redis-sentinel processes on free loopback ports
#     under DIR, master name `tkmaster`; env in DIR/env (TICKETING_REDIS_URL and TK_SENTINEL_URL:
#     the redis-sentinel:// URL; TK_SENTINEL_NODE_PORTS, TK_SENTINEL_PORTS: comma-separated).
#   servers.sh sentinel-primary DIR -> prints the port of the node the sentinels name primary
#   servers.sh sentinel-kill-primary DIR -> kill -9 the primary, wait until the sentinels name
#     another node and it takes writes; prints its port
#   servers.sh sentinel-failover DIR -> SENTINEL FAILOVER (the old primary is demoted, not
#     killed), waits like sentinel-kill-primary
#   servers.sh sentinel-demote DIR -> like sentinel-failover, then makes the old primary a replica
#     of the new one at once with REPLICAOF (no client of it is disconnected, unlike Sentinel's own
#     reconfiguration): its clients' next write gets -READONLY; prints the new primary's port
#   servers.sh sentinel-heal DIR -> restarts killed nodes as replicas of the current primary and
#     waits until every replica is linked and known to every sentinel (the next failover has a
#     candidate)
#   servers.sh patroni-start|patroni-stop DIR -> one etcd and two Patroni nodes (PostgreSQL 15,
#     synchronous replication) under DIR, a fixture of its own; DIR/env: TICKETING_PG_URL (both
#     nodes, target_session_attrs=read-write), TICKETING_PG_READ_URL (prefer-standby),
#     TK_PATRONI_PG_PORT1/2, TK_PATRONI_REST_PORT1/2, TK_ETCD_PORT, TK_ETCD_PEER_PORT.
#   servers.sh patroni-kill-primary DIR -> kill -9 the leader's Patroni and PostgreSQL, wait until
#     the other node is a writable primary, print its name; patroni-stop-replica DIR stops the
#     replica's Patroni and PostgreSQL.
#   servers.sh patroni-restore DIR -> starts in place (same ports and data) etcd and every node
#     that is not running: a killed or stopped node rejoins as a replica (pg_rewind if needed),
#     after patroni-halt the whole cluster comes back; waits for a synchronous replica. A no-op
#     wait when everything runs.
#   servers.sh patroni-halt DIR -> stops the cluster cleanly, data kept: the replica, then the
#     leader (so nothing fails over), then etcd.
#   servers.sh patroni-maintenance-on|patroni-maintenance-off DIR -> Patroni's maintenance mode
#     (pause) on or off, waiting until every running node has seen it. Patroni resumes a paused
#     WAL replay on each loop outside maintenance, so a test that pauses replay needs it on.
#   servers.sh patroni-status DIR -> one line per node: its role (leader, sync replica, replica,
#     down), PostgreSQL and REST addresses.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user.
# TK_SERVERS_HOST (start, sentinel-start, patroni-start): one more local address, besides 127.0.0.1, that
#   PostgreSQL, Redis, the Sentinels and the SMTP sink listen on and that DIR/env's URLs name, for
#   clients in other network namespaces (tests/chaos/netns.py), where 127.0.0.1 is their own
#   loopback. Replicas and sentinels announce it, so the primary a sentinel names is reachable
#   from there too. TK_SERVERS_CLIENTS: the CIDR block those clients come from (PostgreSQL trusts
#   it; default: TK_SERVERS_HOST/32). Both are kept in DIR/env for the later commands.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?dir}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

free_port() {
  python3 - <<'PY' 2>/dev/null || shuf -i 20000-60000 -n 1
import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The address the servers are named by (TK_SERVERS_HOST, else loopback), and what they bind.
srv_host() { echo "${TK_SERVERS_HOST:-127.0.0.1}"; }
srv_binds() { if [ -n "${TK_SERVERS_HOST:-}" ]; then echo "127.0.0.1 $TK_SERVERS_HOST"; else echo 127.0.0.1; fi; }
# Redis refuses clients from anything but loopback in protected mode (no password); with an extra
# address the bind list is the protection: loopback and a private address of this machine.
srv_redis_protected() { if [ -n "${TK_SERVERS_HOST:-}" ]; then echo no; else echo yes; fi; }
# Config lines for a Redis node (node) or a sentinel (sentinel) reached at TK_SERVERS_HOST: what it
# tells the others to reach it by. Nothing without the extra address.
srv_redis_announce() {
  [ -n "${TK_SERVERS_HOST:-}" ] || return 0
  echo "protected-mode no"
  if [ "$1" = node ]; then echo "replica-announce-ip $TK_SERVERS_HOST"; else echo "sentinel announce-ip $TK_SERVERS_HOST"; fi
}

# Folder PostgreSQL lives in (pg/ data, socket, pg.log): DIR itself, except as root when the
# `postgres` user cannot traverse the path to DIR (a checkout under /root, mode 700): then a
# folder in /var/tmp named after DIR's absolute path, so start and stop agree on it.
pg_home() {
  local abs up
  abs=$(realpath -m "$dir"); up=$(dirname "$abs")
  while [ ! -e "$up" ]; do up=$(dirname "$up"); done   # nearest existing parent
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$up" 2>/dev/null; then
    echo "/var/tmp/tk-test-servers-$(printf '%s' "$abs" | sha256sum | cut -c1-16)"
  else
    echo "$dir"
  fi
}
case $cmd in rabbitmq-* | sentinel-*) pgh=$dir ;; *) pgh=$(pg_home) ;; esac

# Patroni: every node's files (config, data, logs, pid) live in $pgh/nodeN, owned by `postgres`.
# Patroni runs as `postgres` and so does the PostgreSQL it starts; `echo $$; exec` records the
# pid of Patroni itself, not of runuser. It starts in its node's folder: its worker processes
# (multiprocessing spawn) change to the starting directory, which `postgres` may not enter when
# the caller's is inside a checkout under /root.
pat_up() {  # pat_up N
  local n=$1 home="$pgh/node$1"
  as_pg sh -c 'cd "$1" && echo $$ >"$1/patroni.pid" && exec setsid patroni "$1/patroni.yml" >>"$1/patroni.log" 2>&1 </dev/null' \
    sh "$home" >/dev/null 2>&1 </dev/null &
  for _ in $(seq 50); do [ -s "$home/patroni.pid" ] && break; sleep 0.1; done
}
pat_pid() { cat "$pgh/node$1/patroni.pid" 2>/dev/null || true; }
# alive PIDFILE NAME: the pid in PIDFILE runs NAME (a pid file left by a reboot may name another).
alive() {
  local p; p=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && grep -q "$2" "/proc/$p/cmdline" 2>/dev/null
}
# etcd on DIR/env's ports; its data in DIR/etcd is kept, so a restart finds the same cluster (the
# --initial-* flags only matter the first time). Its own session: a Ctrl-C meant for the caller
# does not reach it.
etcd_up() {
  setsid etcd --name tk --data-dir "$dir/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$TK_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$TK_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$TK_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$TK_ETCD_PEER_PORT" \
    --initial-cluster "tk=http://127.0.0.1:$TK_ETCD_PEER_PORT" --initial-cluster-state new \
    --log-level warn >>"$dir/etcd/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$TK_ETCD_PORT/health" >/dev/null && return 0; sleep 0.1; done
  echo "etcd did not start" >&2; tail -5 "$dir/etcd/etcd.log" >&2; return 1
}
etcd_down() {  # etcd_down [SIGNAL]: TERM by default, kill -9 after 5 s
  local ep; ep=$(cat "$dir/etcd.pid" 2>/dev/null) || return 0
  kill "-${1:-TERM}" "$ep" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$ep" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$ep" 2>/dev/null || true
  rm -f "$dir/etcd.pid"
}
pm_pid() { head -1 "$pgh/node$1/data/postmaster.pid" 2>/dev/null || true; }
rest_code() {  # rest_code N PATH -> HTTP status of Patroni's REST endpoint (000 if down)
  local var="TK_PATRONI_REST_PORT$1"
  curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${!var}$2" || true
}
pg_at() {  # pg_at N SQL -> psql on node N's database `postgres`
  local var="TK_PATRONI_PG_PORT$1"
  psql -h 127.0.0.1 -p "${!var}" -U postgres -d postgres -Atc "$2" 2>/dev/null
}
pat_kill() {  # pat_kill N: kill -9 Patroni, then the postmaster and its children (by pid)
  local pp pm kids
  pp=$(pat_pid "$1"); pm=$(pm_pid "$1")
  [ -n "$pp" ] && kill -9 "$pp" 2>/dev/null || true
  if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
    kids=$(ps -o pid= --ppid "$pm" || true)
    kill -9 "$pm" $kids 2>/dev/null || true
  fi
  for _ in $(seq 50); do
    { [ -n "$pp" ] && kill -0 "$pp" 2>/dev/null; } || { [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; } || break
    sleep 0.1
  done
  rm -f "$pgh/node$1/patroni.pid"
}
pat_stop() {  # pat_stop N: Patroni stops its PostgreSQL on SIGTERM; kill -9 after 20 s
  local pp; pp=$(pat_pid "$1")
  if [ -n "$pp" ]; then
    kill "$pp" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$pp" 2>/dev/null || break; sleep 0.1; done
  fi
  pat_kill "$1"
}
pat_leader() {  # prints the node number answering 200 on /primary, or nothing (status 0: set -e)
  local n; for n in 1 2; do [ "$(rest_code $n /primary)" = 200 ] && { echo $n; return; }; done
  return 0
}
# The leader streams to a synchronous replica (up to $1 seconds), and etcd names that replica the
# synchronous standby: Patroni records it there a loop after PostgreSQL reports it sync, and until
# then would not promote it (a primary killed in that window stays down: no failover).
pat_wait_sync() {
  local l o rv
  for _ in $(seq $(($1 * 5))); do
    l=$(pat_leader)
    if [ -n "$l" ]; then
      o=$((3 - l)); rv="TK_PATRONI_REST_PORT$o"
      if [ "$(rest_code $o /replica)" = 200 ] &&
         [ "$(pg_at "$l" "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] &&
         curl -s -m 2 "http://127.0.0.1:${!rv}/patroni" | grep -q '"sync_standby": true'; then
        return 0
      fi
    fi
    sleep 0.2
  done
  echo "patroni: no synchronous replica after $1 s" >&2
  tail -n 20 "$pgh"/node*/patroni.log >&2
  return 1
}
pat_stop_all() {
  [ -f "$dir/env" ] && . "$dir/env"
  local n
  for n in 1 2; do [ -d "$pgh/node$n" ] && pat_kill $n; done
  etcd_down KILL
  rm -rf "$dir" "$pgh"
}

# RabbitMQ, called through /usr/lib/rabbitmq/bin directly: the /usr/sbin wrappers switch to the
# `rabbitmq` user and /var/lib/rabbitmq. Every variable points into DIR, so several nodes (other
# test runs, run-local.sh) never share a node name, port, epmd or data folder.
RMQBIN=/usr/lib/rabbitmq/bin
rmq_env() {
  . "$dir/env"
  export HOME="$dir/rabbitmq" ERL_EPMD_PORT="$TK_AMQP_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_CONF_ENV_FILE=/dev/null RABBITMQ_NODENAME="$TK_AMQP_NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$TK_AMQP_PORT" \
    RABBITMQ_DIST_PORT="$TK_AMQP_DIST_PORT" RABBITMQ_MNESIA_BASE="$dir/rabbitmq/mnesia" \
    RABBITMQ_LOG_BASE="$dir/rabbitmq/log" RABBITMQ_CONFIG_FILE="$dir/rabbitmq/rabbitmq" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$dir/rabbitmq/enabled_plugins" \
    RABBITMQ_PID_FILE="$dir/rabbitmq/rabbitmq.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
rmq_up() {  # rmq_up [WAIT_S]
  rmq_env
  rm -f "$RABBITMQ_PID_FILE"
  setsid nohup "$RMQBIN/rabbitmq-server" >>"$dir/rabbitmq/log/console.log" 2>&1 </dev/null &
  echo $! >"$dir/rabbitmq/session.pid"  # setsid execs in place: this pid leads the node's group
  "$RMQBIN/rabbitmqctl" -n "$TK_AMQP_NODE" wait --timeout "${1:-120}" "$RABBITMQ_PID_FILE" >/dev/null
}
rmq_down() {  # rmq_down stop|kill
  [ -f "$dir/env" ] || return 0
  rmq_env
  local pid=""
  [ -f "$RABBITMQ_PID_FILE" ] && pid=$(cat "$RABBITMQ_PID_FILE")
  if [ "$1" = kill ]; then
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  else
    "$RMQBIN/rabbitmqctl" -n "$TK_AMQP_NODE" stop >/dev/null 2>&1 || { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; }
  fi
  # The port must be free before a restart on it; the node is gone once its pid is.
  if [ -n "$pid" ]; then for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; fi
  rm -f "$RABBITMQ_PID_FILE"
}
rmq_stop_all() {
  [ -f "$dir/env" ] || return 0
  rmq_down stop
  epmd -kill >/dev/null 2>&1 || true  # epmd outlives the node; this one is ours (ERL_EPMD_PORT)
}

# Redis Sentinel. Nodes live in DIR/n<port>, sentinels in DIR/s<port>, each with its own
# writable config file (sentinels and failovers rewrite them). Everything is stopped by PID.
SENTINEL_MASTER=tkmaster
sen_env() { . "$dir/env"; }
sen_node_up() {  # sen_node_up PORT [replicaof-port]
  local p=$1 d="$dir/n$1"
  mkdir -p "$d"
  [ -f "$d/redis.conf" ] || cat >"$d/redis.conf" <<CONF
bind $(srv_binds)
$(srv_redis_announce node)
port $p
dir $d
pidfile $d/redis.pid
logfile $d/redis.log
daemonize yes
save ""
appendonly no
repl-diskless-sync-delay 0
CONF
  if [ -n "${2:-}" ]; then
    redis-server "$d/redis.conf" --replicaof "$(srv_host)" "$2" >/dev/null
  else
    redis-server "$d/redis.conf" >/dev/null
  fi
  for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis node $p did not start" >&2; return 1
}
sen_sentinel_up() {  # sen_sentinel_up PORT PRIMARY_PORT
  local p=$1 d="$dir/s$1"
  mkdir -p "$d"
  cat >"$d/sentinel.conf" <<CONF
bind $(srv_binds)
$(srv_redis_announce sentinel)
port $p
dir $d
pidfile $d/sentinel.pid
logfile $d/sentinel.log
daemonize yes
sentinel resolve-hostnames no
sentinel monitor $SENTINEL_MASTER $(srv_host) $2 2
sentinel down-after-milliseconds $SENTINEL_MASTER 1000
sentinel failover-timeout $SENTINEL_MASTER 5000
sentinel parallel-syncs $SENTINEL_MASTER 1
CONF
  redis-sentinel "$d/sentinel.conf" >/dev/null
}
# Field of SENTINEL MASTER (flat name/value lines) as seen by sentinel PORT.
sen_master_field() {
  redis-cli -p "$1" sentinel master "$SENTINEL_MASTER" 2>/dev/null | awk -v k="$2" 'prev==k {print; exit} {prev=$0}'
}
# Port of the primary the sentinels name: the answer of a majority (2 of 3), else nothing.
sen_primary() {
  local s
  for s in ${TK_SENTINEL_PORTS//,/ }; do
    redis-cli -p "$s" sentinel get-master-addr-by-name "$SENTINEL_MASTER" 2>/dev/null | sed -n 2p
  done | sort | uniq -c | awk '$1 >= 2 {print $2; exit}'
}
sen_wait_primary_other_than() {  # prints the new primary once a majority names it and it takes writes
  local old=$1 p
  for _ in $(seq 300); do
    p=$(sen_primary)
    if [ -n "$p" ] && [ "$p" != "$old" ] &&
       redis-cli -p "$p" set tk:sentinel:probe 1 2>/dev/null | grep -q OK; then
      echo "$p"; return 0
    fi
    sleep 0.1
  done
  echo "sentinels did not fail over from $old" >&2; return 1
}
# Ready: the primary takes writes, every other node is its linked replica, and every sentinel
# knows the primary, both other sentinels and every replica as healthy.
sen_wait_ready() {
  local primary n s ok
  for _ in $(seq 600); do
    ok=1
    primary=$(sen_primary)
    if [ -z "$primary" ] || ! redis-cli -p "$primary" set tk:sentinel:probe 1 2>/dev/null | grep -q OK; then ok=0; fi
    for n in ${TK_SENTINEL_NODE_PORTS//,/ }; do
      [ "$ok" = 1 ] || break
      [ "$n" = "$primary" ] && continue
      redis-cli -p "$n" info replication 2>/dev/null | grep -q "master_port:$primary" || ok=0
      redis-cli -p "$n" info replication 2>/dev/null | grep -q "master_link_status:up" || ok=0
    done
    for s in ${TK_SENTINEL_PORTS//,/ }; do
      [ "$ok" = 1 ] || break
      [ "$(sen_master_field "$s" num-other-sentinels)" = 2 ] || ok=0
      [ "$(sen_master_field "$s" flags)" = master ] || ok=0
      # every replica known and not down
      [ "$(redis-cli -p "$s" sentinel replicas "$SENTINEL_MASTER" 2>/dev/null |
           awk 'prev=="flags" {print} {prev=$0}' | grep -cx slave)" = "$(( $(echo "${TK_SENTINEL_NODE_PORTS//,/ }" | wc -w) - 1 ))" ] || ok=0
    done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  echo "sentinel fixture not ready" >&2; return 1
}
sen_stop_all() {
  local f pid
  for f in "$dir"/s*/sentinel.pid "$dir"/n*/redis.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); kill -9 "$pid" 2>/dev/null || true
  done
  for f in "$dir"/s*/sentinel.pid "$dir"/n*/redis.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}

# Debian's aiosmtpd lives in the system Python, whatever python3 is first on PATH.
SINK_PY=/usr/bin/python3
smtp_up() {  # smtp_up PORT
  setsid nohup "$SINK_PY" "$(dirname "$0")/smtp_sink.py" --host "$(srv_host)" --port "$1" --dir "$dir/mail" \
    --refuse-file "$dir/smtp-refuse" >>"$dir/smtp.log" 2>&1 </dev/null &
  echo $! >"$dir/smtp.pid"
  for _ in $(seq 100); do
    "$SINK_PY" -c "import socket,sys; socket.create_connection(('$(srv_host)', $1), 0.2)" \
      2>/dev/null && return 0
    sleep 0.1
  done
  echo "smtp sink did not start" >&2; cat "$dir/smtp.log" >&2; return 1
}

stop() {
  if [ -f "$dir/smtp.pid" ]; then kill "$(cat "$dir/smtp.pid")" 2>/dev/null || true; fi
  if [ -f "$pgh/pg/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$pgh/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$dir" "$pgh"
}

case $cmd in
  rabbitmq-start)
    rmq_stop_all; rm -rf "$dir"
    # A node that does not boot in time (a port taken between free_port and the node's bind by
    # a fixture starting beside it, a slow boot) gets one more try on fresh ports, its log shown.
    for attempt in 1 2; do
      mkdir -p "$dir/rabbitmq/log" "$dir/rabbitmq/mnesia"
      amqp_port=$(free_port); dist_port=$(free_port); epmd_port=$(free_port)
      while [ "$dist_port" = "$amqp_port" ]; do dist_port=$(free_port); done
      while [ "$epmd_port" = "$amqp_port" ] || [ "$epmd_port" = "$dist_port" ]; do epmd_port=$(free_port); done
      node="tk-test-$amqp_port@localhost"
      cat >"$dir/env" <<ENV
TICKETING_AMQP_URL=amqp://guest:guest@127.0.0.1:$amqp_port
TK_AMQP_PORT=$amqp_port
TK_AMQP_DIST_PORT=$dist_port
TK_AMQP_EPMD_PORT=$epmd_port
TK_AMQP_NODE=$node
ENV
      chmod 644 "$dir/env"
      # The cookie is read by the node and by rabbitmqctl from HOME; it must be mode 400.
      head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/rabbitmq/.erlang.cookie"
      chmod 400 "$dir/rabbitmq/.erlang.cookie"
      echo '[].' >"$dir/rabbitmq/enabled_plugins"  # no plugins: a faster start
      cat >"$dir/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$amqp_port
loopback_users = none
CONF
      if rmq_up 80; then break; fi
      echo "rabbitmq did not start on $amqp_port (attempt $attempt); its console log:" >&2
      tail -n 30 "$dir/rabbitmq/log/console.log" >&2 || true
      kill -9 -- "-$(cat "$dir/rabbitmq/session.pid")" 2>/dev/null || true
      epmd -kill >/dev/null 2>&1 || true
      [ "$attempt" = 1 ] || exit 1
      rm -rf "$dir"
    done
    echo "rabbitmq up: $amqp_port ($node)"
    ;;
  rabbitmq-stop) rmq_stop_all; rm -rf "$dir"; echo "rabbitmq stopped" ;;
  rabbitmq-halt) rmq_down stop ;;
  rabbitmq-kill) rmq_down kill ;;
  rabbitmq-pause) rmq_env; kill -STOP "$(cat "$RABBITMQ_PID_FILE")" ;;
  rabbitmq-thaw) rmq_env; kill -CONT "$(cat "$RABBITMQ_PID_FILE")" ;;
  rabbitmq-resume) rmq_up ;;
  sentinel-start)
    sen_stop_all; rm -rf "$dir"; mkdir -p "$dir"
    ports=()
    while [ "${#ports[@]}" -lt 5 ]; do
      p=$(free_port)
      case " ${ports[*]} " in *" $p "*) ;; *) ports+=("$p") ;; esac
    done
    n1=${ports[0]} n2=${ports[1]} s1=${ports[2]} s2=${ports[3]} s3=${ports[4]}
    h=$(srv_host)
    url="redis-sentinel://$h:$s1,$h:$s2,$h:$s3/$SENTINEL_MASTER"
    cat >"$dir/env" <<ENV
TICKETING_REDIS_URL=$url
TK_SENTINEL_URL=$url
TK_SENTINEL_MASTER=$SENTINEL_MASTER
TK_SENTINEL_NODE_PORTS=$n1,$n2
TK_SENTINEL_PORTS=$s1,$s2,$s3
ENV
    [ -z "${TK_SERVERS_HOST:-}" ] || echo "TK_SERVERS_HOST=$TK_SERVERS_HOST" >>"$dir/env"
    chmod 644 "$dir/env"
    sen_env
    sen_node_up "$n1"
    sen_node_up "$n2" "$n1"
    for s in "$s1" "$s2" "$s3"; do sen_sentinel_up "$s" "$n1"; done
    sen_wait_ready
    echo "sentinel up: primary $n1 replica $n2 sentinels $s1 $s2 $s3"
    ;;
  sentinel-stop) sen_stop_all; rm -rf "$dir"; echo "sentinel stopped" ;;
  sentinel-primary) sen_env; sen_primary ;;
  sentinel-kill-primary)
    sen_env; old=$(sen_primary)
    [ -n "$old" ] || { echo "no primary" >&2; exit 1; }
    kill -9 "$(cat "$dir/n$old/redis.pid")"
    sen_wait_primary_other_than "$old" ;;
  sentinel-failover)
    sen_env; old=$(sen_primary)
    s=${TK_SENTINEL_PORTS%%,*}
    redis-cli -p "$s" sentinel failover "$SENTINEL_MASTER" >/dev/null
    sen_wait_primary_other_than "$old" ;;
  sentinel-demote)
    sen_env; old=$(sen_primary)
    s=${TK_SENTINEL_PORTS%%,*}
    redis-cli -p "$s" sentinel failover "$SENTINEL_MASTER" >/dev/null
    new=$(sen_wait_primary_other_than "$old")
    redis-cli -p "$old" replicaof "$(srv_host)" "$new" >/dev/null
    echo "$new" ;;
  sentinel-heal)
    sen_env; primary=$(sen_primary)
    [ -n "$primary" ] || { echo "no primary" >&2; exit 1; }
    for n in ${TK_SENTINEL_NODE_PORTS//,/ }; do
      redis-cli -p "$n" ping >/dev/null 2>&1 || sen_node_up "$n" "$primary"
    done
    sen_wait_ready ;;
  start)
    stop
    mkdir -p "$dir/redis"
    pg_port=$(free_port); redis_port=$(free_port); smtp_port=$(free_port)
    while [ "$redis_port" = "$pg_port" ]; do redis_port=$(free_port); done
    while [ "$smtp_port" = "$pg_port" ] || [ "$smtp_port" = "$redis_port" ]; do smtp_port=$(free_port); done
    if [ "${3:-}" != --no-pg ]; then
      if [ "$pgh" != "$dir" ]; then mkdir -m 755 "$pgh"; fi   # fresh (stop removed it), never reused
      mkdir -p "$pgh/pg"
      if [ "$(id -u)" = 0 ]; then chown -R postgres "$pgh"; chmod 755 "$dir" "$pgh"; fi
      as_pg "$PGBIN/initdb" -D "$pgh/pg" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1
      cat >>"$pgh/pg/postgresql.conf" <<CONF
listen_addresses = '$(srv_binds | tr ' ' ,)'
port = $pg_port
unix_socket_directories = '$pgh'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
CONF
      if [ -n "${TK_SERVERS_HOST:-}" ]; then
        echo "host all all ${TK_SERVERS_CLIENTS:-$TK_SERVERS_HOST/32} trust" >>"$pgh/pg/pg_hba.conf"
      fi
      as_pg "$PGBIN/pg_ctl" -D "$pgh/pg" -l "$pgh/pg.log" -w -t 60 start >/dev/null
      as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres ticketing
      cat >"$dir/env" <<ENV
TICKETING_PG_URL=postgresql://postgres@$(srv_host):$pg_port/ticketing
TK_PG_PORT=$pg_port
TK_PG_DATA=$pgh/pg
TK_PG_BIN=$PGBIN
ENV
    else
      : >"$dir/env"; pg_port=none
    fi
    # Two fixtures starting at once may draw the same free port: the loser's server cannot bind,
    # and a check that only connects would find the winner's. So each server must answer as
    # ours (Redis: its dir; the sink: its process alive), else it starts on another port.
    redis_dir=$(cd "$dir/redis" && pwd -P)
    for attempt in 1 2 3 4 5; do
      # shellcheck disable=SC2046 # one --bind argument per address
      redis-server --bind $(srv_binds) --protected-mode "$(srv_redis_protected)" --port "$redis_port" --dir "$dir/redis" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --appendonly yes \
        --appendfsync everysec --save '' >/dev/null || true
      for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
      [ "$(redis-cli -p "$redis_port" CONFIG GET dir 2>/dev/null | sed -n 2p)" = "$redis_dir" ] && break
      [ "$attempt" = 5 ] && { echo "redis did not start on a port of its own" >&2; exit 1; }
      redis_port=$(free_port)
      while [ "$redis_port" = "$pg_port" ] || [ "$redis_port" = "$smtp_port" ]; do redis_port=$(free_port); done
    done
    mkdir -p "$dir/mail"
    for attempt in 1 2 3 4 5; do
      smtp_up "$smtp_port" && sleep 0.3 && kill -0 "$(cat "$dir/smtp.pid")" 2>/dev/null && break
      [ "$attempt" = 5 ] && { echo "smtp sink did not start on a port of its own" >&2; exit 1; }
      smtp_port=$(free_port)
      while [ "$smtp_port" = "$pg_port" ] || [ "$smtp_port" = "$redis_port" ]; do smtp_port=$(free_port); done
    done
    h=$(srv_host)
    cat >>"$dir/env" <<ENV
TICKETING_REDIS_URL=redis://$h:$redis_port
TK_REDIS_PORT=$redis_port
TK_REDIS_DIR=$dir/redis
TICKETING_SMTP_URL=smtp://$h:$smtp_port
TK_SMTP_PORT=$smtp_port
TK_MAIL_DIR=$dir/mail
TK_SMTP_REFUSE_FILE=$dir/smtp-refuse
ENV
    [ -z "${TK_SERVERS_HOST:-}" ] || echo "TK_SERVERS_HOST=$TK_SERVERS_HOST" >>"$dir/env"
    chmod 644 "$dir/env"
    echo "servers up: pg $pg_port redis $redis_port smtp $smtp_port"
    ;;
  stop) stop; echo "servers stopped" ;;
  patroni-start)
    pat_stop_all
    mkdir -p "$dir/etcd"
    if [ "$pgh" != "$dir" ]; then mkdir -m 755 "$pgh"; fi
    ports=()
    while [ ${#ports[@]} -lt 6 ]; do
      p=$(free_port); case " ${ports[*]} " in *" $p "*) ;; *) ports+=("$p") ;; esac
    done
    etcd_port=${ports[0]}; peer_port=${ports[1]}
    pg1=${ports[2]}; pg2=${ports[3]}; rest1=${ports[4]}; rest2=${ports[5]}
    h=$(srv_host)
    # Quoted: the URLs hold '&', and the file is sourced by shells.
    cat >"$dir/env" <<ENV
TICKETING_PG_URL='postgresql://postgres@$h:$pg1,$h:$pg2/ticketing?target_session_attrs=read-write&connect_timeout=2'
TICKETING_PG_READ_URL='postgresql://postgres@$h:$pg1,$h:$pg2/ticketing?target_session_attrs=prefer-standby&connect_timeout=2'
TK_PATRONI_PG_PORT1=$pg1
TK_PATRONI_PG_PORT2=$pg2
TK_PATRONI_REST_PORT1=$rest1
TK_PATRONI_REST_PORT2=$rest2
TK_ETCD_PORT=$etcd_port
TK_ETCD_PEER_PORT=$peer_port
ENV
    [ -z "${TK_SERVERS_HOST:-}" ] || echo "TK_SERVERS_HOST=$TK_SERVERS_HOST" >>"$dir/env"
    chmod 644 "$dir/env"
    . "$dir/env"
    # Clients in other network namespaces (TK_SERVERS_HOST): PostgreSQL listens on that address too,
    # Patroni names it to the other node, and pg_hba lets those clients in.
    pg_listen=$(srv_binds | tr ' ' ,)
    hba_extra=""
    if [ -n "${TK_SERVERS_HOST:-}" ]; then
      # The other node replicates from that address too.
      hba_extra="    - host replication all $TK_SERVERS_HOST/32 trust
    - host all all ${TK_SERVERS_CLIENTS:-$TK_SERVERS_HOST/32} trust"
    fi
    etcd_up
    for n in 1 2; do
      home="$pgh/node$n"; mkdir -p "$home"
      pgp_var="TK_PATRONI_PG_PORT$n"; rest_var="TK_PATRONI_REST_PORT$n"
      # synchronous_mode: a commit is acknowledged only once the synchronous standby has it, and
      # only that standby may be promoted. Not strict: with the replica gone the primary goes on
      # alone (availability), which synchronous_mode_strict would refuse (writes would block).
      cat >"$home/patroni.yml" <<YML
scope: tk-$etcd_port
namespace: /tk/
name: node$n
restapi:
  listen: 127.0.0.1:${!rest_var}
  connect_address: 127.0.0.1:${!rest_var}
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        max_connections: 200
        shared_buffers: 128MB
        synchronous_commit: "on"
        hot_standby_feedback: "on"
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication all 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
$hba_extra
postgresql:
  listen: $pg_listen:${!pgp_var}
  connect_address: $h:${!pgp_var}
  data_dir: $home/data
  bin_dir: /usr/lib/postgresql/15/bin
  pgpass: $home/pgpass
  authentication:
    superuser:
      username: postgres
    replication:
      username: postgres
    rewind:
      username: postgres
  parameters:
    unix_socket_directories: '$home'
  pg_hba:
    - local all all trust
    - host replication all 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
$hba_extra
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
YML
    done
    if [ "$(id -u)" = 0 ]; then chown -R postgres "$pgh"; chmod 755 "$dir" "$pgh"; fi
    pat_up 1
    # The first node bootstraps the cluster; the second clones it once a leader exists.
    for _ in $(seq 300); do [ "$(rest_code 1 /primary)" = 200 ] && break; sleep 0.2; done
    pat_up 2
    pat_wait_sync 90
    leader=$(pat_leader)
    lp_var="TK_PATRONI_PG_PORT$leader"
    psql -h 127.0.0.1 -p "${!lp_var}" -U postgres -d postgres -qc "CREATE DATABASE ticketing" >/dev/null
    echo "patroni up: leader node$leader, pg $pg1 $pg2, rest $rest1 $rest2, etcd $etcd_port"
    ;;
  patroni-stop) pat_stop_all; echo "patroni stopped" ;;
  patroni-kill-primary)
    . "$dir/env"
    old=$(pat_leader); [ -n "$old" ] || { echo "patroni: no leader to kill" >&2; exit 1; }
    pat_kill "$old"
    new=$((3 - old))
    np_var="TK_PATRONI_PG_PORT$new"
    for _ in $(seq 300); do
      if [ "$(rest_code $new /primary)" = 200 ] &&
         psql -h 127.0.0.1 -p "${!np_var}" -U postgres -d postgres -qAtc \
           "SELECT pg_current_xact_id()" >/dev/null 2>&1; then
        echo "node$new"; exit 0
      fi
      sleep 0.2
    done
    echo "patroni: node$new did not become a writable primary" >&2; tail -20 "$pgh/node$new/patroni.log" >&2; exit 1
    ;;
  patroni-stop-replica)
    . "$dir/env"
    l=$(pat_leader); [ -n "$l" ] || { echo "patroni: no leader" >&2; exit 1; }
    pat_stop $((3 - l))
    ;;
  patroni-restore)
    . "$dir/env"
    alive "$dir/etcd.pid" etcd || etcd_up
    for n in 1 2; do alive "$pgh/node$n/patroni.pid" patroni || pat_up $n; done
    pat_wait_sync 120
    ;;
  patroni-halt)
    . "$dir/env"
    first=1; [ "$(pat_leader)" = 1 ] && first=2
    pat_stop $first; pat_stop $((3 - first))
    etcd_down
    ;;
  patroni-maintenance-on|patroni-maintenance-off)
    . "$dir/env"
    want=true; body='{"pause": true}'
    [ "$cmd" = patroni-maintenance-off ] && { want=false; body='{"pause": null}'; }
    l=$(pat_leader); [ -n "$l" ] || { echo "patroni: no leader" >&2; exit 1; }
    lv="TK_PATRONI_REST_PORT$l"
    curl -sf -m 5 -X PATCH -H 'Content-Type: application/json' -d "$body" \
      "http://127.0.0.1:${!lv}/config" >/dev/null
    for _ in $(seq 100); do
      seen=0; up=0
      for n in 1 2; do
        rv="TK_PATRONI_REST_PORT$n"
        st=$(curl -s -m 2 "http://127.0.0.1:${!rv}/patroni") || continue
        up=$((up + 1))
        if printf '%s' "$st" | grep -q '"pause": true'; then p=true; else p=false; fi
        [ "$p" = "$want" ] && seen=$((seen + 1))
      done
      [ "$up" -gt 0 ] && [ "$seen" = "$up" ] && exit 0
      sleep 0.2
    done
    echo "patroni: maintenance mode not applied ($want)" >&2; exit 1
    ;;
  patroni-status)
    . "$dir/env"
    for n in 1 2; do
      pv="TK_PATRONI_PG_PORT$n"; rv="TK_PATRONI_REST_PORT$n"
      if [ "$(rest_code $n /primary)" = 200 ]; then role=leader
      elif curl -s -m 2 "http://127.0.0.1:${!rv}/patroni" | grep -q '"sync_standby": true'; then role="sync replica"
      elif [ "$(rest_code $n /replica)" = 200 ]; then role=replica
      else role=down; fi
      echo "node$n $role postgresql 127.0.0.1:${!pv} rest http://127.0.0.1:${!rv}"
    done
    ;;
  # Fault switches for tests: stop or start one server in place (same port, same data).
  redis-stop)
    . "$dir/env"; redis-cli -p "$TK_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 50); do redis-cli -p "$TK_REDIS_PORT" ping >/dev/null 2>&1 || break; sleep 0.1; done ;;
  redis-kill)
    . "$dir/env"; kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true; sleep 0.2 ;;
  # SIGSTOP/SIGCONT: a Redis that keeps its connections open but answers nothing (a stuck host).
  redis-pause)
    kill -STOP "$(cat "$dir/redis.pid")" ;;
  redis-resume)
    kill -CONT "$(cat "$dir/redis.pid")" ;;
  redis-wipe)
    . "$dir/env"; kill -9 "$(cat "$dir/redis.pid")" 2>/dev/null || true
    for _ in $(seq 50); do redis-cli -p "$TK_REDIS_PORT" ping >/dev/null 2>&1 || break; sleep 0.1; done
    rm -rf "${dir:?}/redis"; mkdir -p "$dir/redis" ;;
  redis-start)
    . "$dir/env"
    # shellcheck disable=SC2046 # one --bind argument per address
    redis-server --bind $(srv_binds) --protected-mode "$(srv_redis_protected)" --port "$TK_REDIS_PORT" --dir "$dir/redis" --daemonize yes \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --appendonly yes \
      --appendfsync everysec --save '' >/dev/null
    for _ in $(seq 50); do redis-cli -p "$TK_REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done ;;
  pg-stop)
    . "$dir/env"; as_pg "$PGBIN/pg_ctl" -D "$pgh/pg" -m immediate stop >/dev/null 2>&1 || true ;;
  # SIGSTOP/SIGCONT of the postmaster and every backend: a database that keeps its connections
  # but answers nothing for a while (a stalled disk, a host paused), then carries on.
  pg-pause | pg-resume)
    pm=$(head -n 1 "$pgh/pg/postmaster.pid")
    sig=STOP; [ "$cmd" = pg-resume ] && sig=CONT
    # shellcheck disable=SC2046 # one pid per word
    kill -s "$sig" "$pm" $(pgrep -P "$pm") ;;
  smtp-refuse) touch "$dir/smtp-refuse" ;;
  smtp-accept) rm -f "$dir/smtp-refuse" ;;
  pg-start)
    as_pg "$PGBIN/pg_ctl" -D "$pgh/pg" -l "$pgh/pg.log" -w -t 60 start >/dev/null ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
