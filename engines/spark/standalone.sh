#!/usr/bin/env bash
# engines/spark/standalone.sh: start / stop a Spark standalone cluster (one
# Master, SA_WORKERS Workers, default 2) on 127.0.0.1, from the pyspark that
# engines/install.sh installed.  The pip package has no sbin/ scripts, so the
# daemons are run directly with spark-class.
#
#   engines/spark/standalone.sh start DIR    # ~10 s; prints the master URL
#   engines/spark/spark-submit --master spark://127.0.0.1:17077 ...
#   engines/spark/standalone.sh stop DIR
#
# DIR holds master.pid, master.log, workerN.pid, workerN.log, workerN/ (the
# workers' --work-dir: executors' stdout/stderr under app-*/N/) and
# master-url.  Environment: SA_MASTER_PORT (17077), SA_WEBUI_PORT (18080;
# worker N's web UI is SA_WEBUI_PORT+N), SA_WORKERS (2), SA_WORKER_CORES (1),
# SA_WORKER_MEMORY (1g), SA_DAEMON_MEMORY (512m, each daemon's own heap).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd="$1"; mkdir -p "$2"; dir="$(cd "$2" && pwd)"

port="${SA_MASTER_PORT:-17077}"
webui="${SA_WEBUI_PORT:-18080}"
workers="${SA_WORKERS:-2}"
url="spark://127.0.0.1:$port"

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid FILE: TERM, up to 20 s, then KILL; removes FILE.
stop_pid() {
  [[ -f "$1" ]] || return 0
  local pid; pid="$(cat "$1")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$1"
}

stop_all() {
  local n
  for ((n = workers; n >= 1; n--)); do stop_pid "$dir/worker$n.pid"; done
  # Workers that a larger SA_WORKERS started earlier.
  for f in "$dir"/worker*.pid; do [[ -e "$f" ]] && stop_pid "$f"; done
  stop_pid "$dir/master.pid"
}

# The daemons log at INFO (their registration lines are what start waits for).
daemon() { # NAME CLASS ARGS...
  local name="$1"; shift
  SPARK_DAEMON_MEMORY="${SA_DAEMON_MEMORY:-512m}" \
    SPARK_LOG_DIR="$dir" SPARK_WORKER_DIR="$dir" \
    "$here/spark-class" "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# wait_for FILE PATTERN COUNT PIDFILE WHAT: until FILE has COUNT lines matching PATTERN.
wait_for() {
  for _ in $(seq 1 240); do
    [[ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ]] && return 0
    alive "$4" || { echo "standalone: $5 died, see $1" >&2; tail -20 "$1" >&2; stop_all; exit 1; }
    sleep 0.5
  done
  echo "standalone: $5 not up after 120 s, see $1" >&2; stop_all; exit 1
}

case "$cmd" in
  start)
    if alive "$dir/master.pid"; then
      echo "standalone: already running (master pid $(cat "$dir/master.pid"))" >&2; exit 1
    fi
    rm -f "$dir/master-url"
    # The daemons' log4j2 must be at INFO; engines/spark/conf is at WARN.
    mkdir -p "$dir/conf"
    sed 's/^rootLogger.level *=.*/rootLogger.level = info/' "$here/conf/log4j2.properties" >"$dir/conf/log4j2.properties"
    export SPARK_CONF_DIR="$dir/conf"
    daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port "$webui"
    wait_for "$dir/master.log" "Starting Spark master at" 1 "$dir/master.pid" master
    for ((n = 1; n <= workers; n++)); do
      mkdir -p "$dir/worker$n"
      daemon "worker$n" org.apache.spark.deploy.worker.Worker "$url" --host 127.0.0.1 \
        --cores "${SA_WORKER_CORES:-1}" --memory "${SA_WORKER_MEMORY:-1g}" \
        --webui-port "$((webui + n))" --work-dir "$dir/worker$n"
    done
    wait_for "$dir/master.log" "Registering worker" "$workers" "$dir/master.pid" "workers"
    for ((n = 1; n <= workers; n++)); do
      alive "$dir/worker$n.pid" || { echo "standalone: worker $n died, see $dir/worker$n.log" >&2; stop_all; exit 1; }
    done
    echo "$url" >"$dir/master-url"
    echo "standalone: up: master pid $(cat "$dir/master.pid"), $workers workers ($(grep -c "Registering worker" "$dir/master.log") registered)" >&2
    echo "$url"
    ;;
  stop)
    [[ -f "$dir/master.pid" ]] || { echo "standalone: no $dir/master.pid" >&2; exit 1; }
    stop_all
    echo "standalone: stopped" >&2
    ;;
  *) usage ;;
esac
