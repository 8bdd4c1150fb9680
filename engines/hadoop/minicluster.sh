#!/usr/bin/env bash
# engines/hadoop/minicluster.sh: start / stop a real HDFS + YARN + MR mini
# cluster (Hadoop's MiniHadoopClusterManager, 1 DataNode, MC_NODEMANAGERS
# NodeManagers, default 2) on 127.0.0.1, with YARN log aggregation on, and
# write a client conf dir for the engines/hadoop/hadoop launcher.
#
#   engines/hadoop/minicluster.sh start DIR   # ~16 s; prints the export to use
#   export HADOOP_CONF_DIR=DIR/conf
#   engines/hadoop/hadoop fs -put ... ; engines/hadoop/hadoop jar STREAMING.jar ...
#   engines/hadoop/minicluster.sh logs DIR job_..|application_.. [LogsCLI ARGS]
#   engines/hadoop/minicluster.sh stop DIR
#
# `logs` prints a finished job's aggregated container logs (default: every
# container's stderr, i.e. `-log_files stderr`) with YARN's LogsCLI
# (`yarn logs`), after waiting until the application's "Log Aggregation
# Status" is final: the NodeManagers upload the logs a few seconds after
# the job's client has returned, and LogsCLI finds nothing before that.
#
# DIR holds the cluster's data (DIR/target), pid, details.json, mc-conf.xml
# and conf/.  Ports: MC_NN_PORT (18020), MC_RM_PORT (18032), MC_JHS_PORT (18888);
# the RM's scheduler/tracker/admin/web ports (8030, 8031, 8033, 8088) and the
# JobHistory web ports (19888, 10033) are Hadoop's fixed defaults, so one
# mini cluster runs per machine.  MC_NODEMANAGERS (2).  MC_LOG_AGGREGATION
# (true: containers' logs go to hdfs:///tmp/logs when an application ends,
# which is where `yarn logs` / LogsCLI reads a finished job's logs).
# MC_TASK_JAVA_OPTS: the task and AM JVMs' options (default
# "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"; empty for Hadoop's defaults).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ENGINES_HOME="${ENGINES_HOME:-$repo/.engines}"
minilib="$ENGINES_HOME/hadoop/minicluster-lib"

usage() { echo "usage: $0 start|stop DIR | $0 logs DIR JOB_OR_APP_ID [LogsCLI ARGS]" >&2; exit 2; }
[[ $# -eq 2 || ( $# -ge 3 && "$1" == logs ) ]] || usage
cmd="$1"; mkdir -p "$2"; dir="$(cd "$2" && pwd)"; shift 2

prop() { printf '<property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }

case "$cmd" in
  start)
    if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "minicluster: already running (pid $(cat "$dir/pid"))" >&2; exit 1
    fi
    rm -f "$dir/details.json" "$dir/mc-conf.xml"
    (cd "$dir" && HADOOP_OPTS="${HADOOP_OPTS:--Xmx2g}" exec "$here/hadoop" minicluster -format \
        -nnport "${MC_NN_PORT:-18020}" -rmport "${MC_RM_PORT:-18032}" -jhsport "${MC_JHS_PORT:-18888}" \
        -nodemanagers "${MC_NODEMANAGERS:-2}" \
        -D yarn.log-aggregation-enable="${MC_LOG_AGGREGATION:-true}" -D yarn.nodemanager.remote-app-log-dir=/tmp/logs \
        -writeConfig "$dir/mc-conf.xml" -writeDetails "$dir/details.json" \
        >"$dir/minicluster.out" 2>"$dir/minicluster.err") &
    echo $! >"$dir/pid"
    for _ in $(seq 1 180); do
      [[ -s "$dir/details.json" ]] && break
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "minicluster: died, see $dir/minicluster.err" >&2; exit 1; }
      sleep 1
    done
    [[ -s "$dir/details.json" ]] || { echo "minicluster: not up after 180 s" >&2; exit 1; }
    # The dump says mapreduce.framework.name=local; a later entry in the same
    # file wins.  Containers run on this machine, so they can use the jars here.
    # Task and AM JVMs live seconds: C1 only and the serial GC halve a small
    # job's wall time on a 2-core machine (a 5 MiB word-count's YARN job:
    # 44 s -> 22 s).  The heap is still sized from mapreduce.*.memory.mb.
    jopts="${MC_TASK_JAVA_OPTS--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
    extra="$(prop mapreduce.framework.name yarn; prop mapreduce.application.classpath "$minilib/*"
      if [[ -n "$jopts" ]]; then
        prop mapreduce.map.java.opts "$jopts"; prop mapreduce.reduce.java.opts "$jopts"
        prop yarn.app.mapreduce.am.command-opts "-Xmx1024m $jopts"
      fi)"
    mkdir -p "$dir/conf"
    for f in core-site hdfs-site yarn-site mapred-site; do
      sed "s#</configuration>#${extra//$'\n'/}</configuration>#" "$dir/mc-conf.xml" >"$dir/conf/$f.xml"
    done
    echo "minicluster: up (pid $(cat "$dir/pid")): $(cat "$dir/details.json")" >&2
    echo "export HADOOP_CONF_DIR=$dir/conf"
    ;;
  logs)
    app="${1/#job_/application_}"; shift
    [[ "$app" == application_* ]] || usage
    [[ $# -gt 0 ]] || set -- -log_files stderr
    export HADOOP_CONF_DIR="$dir/conf"
    status=""
    for _ in $(seq 1 60); do
      status="$("$here/hadoop" org.apache.hadoop.yarn.client.cli.ApplicationCLI application -status "$app" 2>/dev/null |
        sed -n 's/^[[:space:]]*Log Aggregation Status : //p')"
      case "$status" in SUCCEEDED|FAILED|TIME_OUT|DISABLED) break ;; esac
      sleep 1
    done
    [[ "$status" == SUCCEEDED ]] || echo "minicluster: $app: Log Aggregation Status ${status:-unknown}" >&2
    exec "$here/hadoop" org.apache.hadoop.yarn.client.cli.LogsCLI -applicationId "$app" "$@"
    ;;
  stop)
    [[ -f "$dir/pid" ]] || { echo "minicluster: no $dir/pid" >&2; exit 1; }
    pid="$(cat "$dir/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$dir/pid"
    echo "minicluster: stopped" >&2
    ;;
  *) usage ;;
esac
