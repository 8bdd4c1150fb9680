#!/usr/bin/env bash
# engines/hadoop/minicluster.sh: start / stop a real HDFS + YARN + MR mini
# cluster (Hadoop's MiniHadoopClusterManager, 1 DataNode, 1 NodeManager) on
# 127.0.0.1, and write a client conf dir for the engines/hadoop/hadoop launcher.
#
#   engines/hadoop/minicluster.sh start DIR   # ~12 s; prints the export to use
#   export HADOOP_CONF_DIR=DIR/conf
#   engines/hadoop/hadoop fs -put ... ; engines/hadoop/hadoop jar STREAMING.jar ...
#   engines/hadoop/minicluster.sh stop DIR
#
# DIR holds the cluster's data (DIR/target), pid, details.json, mc-conf.xml
# and conf/.  Ports: MC_NN_PORT (18020), MC_RM_PORT (18032), MC_JHS_PORT (18888).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
ENGINES_HOME="${ENGINES_HOME:-$repo/.engines}"
minilib="$ENGINES_HOME/hadoop/minicluster-lib"

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd="$1"; mkdir -p "$2"; dir="$(cd "$2" && pwd)"

prop() { printf '<property><name>%s</name><value>%s</value></property>\n' "$1" "$2"; }

case "$cmd" in
  start)
    if [[ -f "$dir/pid" ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "minicluster: already running (pid $(cat "$dir/pid"))" >&2; exit 1
    fi
    rm -f "$dir/details.json" "$dir/mc-conf.xml"
    (cd "$dir" && HADOOP_OPTS="${HADOOP_OPTS:--Xmx2g}" exec "$here/hadoop" minicluster -format \
        -nnport "${MC_NN_PORT:-18020}" -rmport "${MC_RM_PORT:-18032}" -jhsport "${MC_JHS_PORT:-18888}" \
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
    extra="$(prop mapreduce.framework.name yarn; prop mapreduce.application.classpath "$minilib/*")"
    mkdir -p "$dir/conf"
    for f in core-site hdfs-site yarn-site mapred-site; do
      sed "s#</configuration>#${extra//$'\n'/}</configuration>#" "$dir/mc-conf.xml" >"$dir/conf/$f.xml"
    done
    echo "minicluster: up (pid $(cat "$dir/pid")): $(cat "$dir/details.json")" >&2
    echo "export HADOOP_CONF_DIR=$dir/conf"
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
