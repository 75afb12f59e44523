# shellcheck shell=bash
# Processes of the built binary for the black-box scripts that start several roles
# (run_pattern_a.sh, run_ha.sh); sourced. The caller sets `bin` (the binary), `dir` (logs and pid
# files) and `pids` (an array its exit trap stops), and exports the settings common to its
# processes (e2e_settings below, then its own).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The black-box tests' common settings: a test secret and admin token, cheap password hashing,
# no access log.
e2e_settings() {
  export TICKETING_HTTP_HOST=127.0.0.1 TICKETING_THREADS=2 \
    TICKETING_SECRET=e2e-secret-0123456789abcdef0123456789abcdef TICKETING_ADMIN_TOKEN=e2e-admin \
    TICKETING_ARGON2_OPSLIMIT=1 TICKETING_ARGON2_MEMLIMIT_KIB=8192 TICKETING_ARGON2_PER_ADDRESS=256 \
    TICKETING_ARGON2_QUEUE=256 TICKETING_ACCESS_LOG=0
}

wait_ready() {  # url pid log: until url answers, or the process died, or 30 s passed
  local _
  for _ in $(seq 150); do
    curl -sf "$1" >/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "process died"; cat "$3"; exit 1; }
    sleep 0.2
  done
  echo "not ready: $1"; cat "$3"; exit 1
}

start() {  # name role port ops [VAR=VALUE...]: one process in ROLE, ready on its ops port
  local name=$1 role=$2 port=$3 ops=$4; shift 4
  env TICKETING_ROLE="$role" TICKETING_HTTP_PORT="$port" TICKETING_OPS_PORT="$ops" "$@" \
    "$bin" >>"$dir/$name.log" 2>&1 &
  pids+=($!)
  echo $! >"$dir/$name.pid"
  wait_ready "http://127.0.0.1:$ops/readyz" $! "$dir/$name.log"
}
