#!/usr/bin/env bash
# engines/install.sh: fetch real Apache Hadoop (client, local job runner,
# Streaming, mini cluster) and Apache Spark (pyspark) into <repo>/.engines/,
# from Maven Central and PyPI only.  Idempotent: a component whose stamp
# matches is skipped, so a second run takes well under a second.
#
#   engines/install.sh [hadoop] [spark]     (no argument: both)
#
# Needs: java (17), mvn, python3 with pip.  Environment:
#   ENGINES_HOME   cache directory (default: <repo>/.engines, git-ignored)
#   FORCE=1        reinstall even when the stamps match
#
# Result (see engines/README.md):
#   .engines/hadoop/lib/*.jar               Hadoop 3.4.2 client + MR + Streaming
#   .engines/hadoop/hadoop-streaming.jar    fixed path to the Streaming jar
#   .engines/hadoop/minicluster-lib/*.jar   HDFS+YARN+MR mini cluster (minicluster.sh)
#   .engines/spark/pyspark/bin/spark-submit pyspark 3.5.7 (pip --target)
#   .engines/m2/                            the Maven cache used for the above
# Launchers: engines/hadoop/hadoop, engines/spark/spark-submit.
set -euo pipefail

HADOOP_VERSION=3.4.2
PYSPARK_VERSION=3.5.7

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
ENGINES_HOME="${ENGINES_HOME:-$repo/.engines}"
mkdir -p "$ENGINES_HOME"
ENGINES_HOME="$(cd "$ENGINES_HOME" && pwd)"

want_hadoop=0 want_spark=0
[[ $# -eq 0 ]] && want_hadoop=1 want_spark=1
for a in "$@"; do
  case "$a" in
    hadoop) want_hadoop=1 ;;
    spark) want_spark=1 ;;
    *) echo "usage: $0 [hadoop] [spark]" >&2; exit 2 ;;
  esac
done

log() { echo "install.sh: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing '$1' ($2)"; exit 1; }; }

# stamp FILE CONTENT: true when FILE holds CONTENT (and FORCE is unset).
stamp_ok() { [[ -z "${FORCE:-}" && -f "$1" && "$(cat "$1")" == "$2" ]]; }

# mvn_copy POM DIR: the POM's runtime dependency jars into DIR (Maven 3.8's
# -q -B still prints colour resets: strip them).
mvn_copy() {
  mvn -q -B -Dmaven.repo.local="$ENGINES_HOME/m2" -f "$1" \
    dependency:copy-dependencies -DoutputDirectory="$2" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
}

install_hadoop() {
  local hh="$ENGINES_HOME/hadoop" m2="$ENGINES_HOME/m2"
  local poms=("$here/hadoop/pom.xml" "$here/hadoop/minicluster/pom.xml")
  local stamp
  stamp="hadoop $HADOOP_VERSION $(cat "${poms[@]}" | sha256sum | cut -c1-16)"
  if stamp_ok "$hh/.stamp" "$stamp" && [[ -f "$hh/hadoop-streaming.jar" ]]; then
    log "hadoop $HADOOP_VERSION: up to date ($hh)"
    return
  fi
  need java "a JDK 17"
  need mvn "Apache Maven 3"
  for p in "${poms[@]}"; do
    grep -q "<hadoop.version>$HADOOP_VERSION</hadoop.version>" "$p" ||
      { log "$p does not pin hadoop.version $HADOOP_VERSION"; exit 1; }
  done
  log "hadoop $HADOOP_VERSION: resolving with Maven into $hh (cache $m2)"
  rm -rf "$hh.tmp"
  mkdir -p "$hh.tmp" "$m2"
  mvn_copy "$here/hadoop/pom.xml" "$hh.tmp/lib"
  mvn_copy "$here/hadoop/minicluster/pom.xml" "$hh.tmp/minicluster-lib"
  cp "$hh.tmp/lib/hadoop-streaming-$HADOOP_VERSION.jar" "$hh.tmp/hadoop-streaming.jar"
  # Keep logs/ etc. of an older install out of the way, then swap in.
  rm -rf "$hh"
  mv "$hh.tmp" "$hh"
  echo "$stamp" >"$hh/.stamp"
  log "hadoop $HADOOP_VERSION: $(ls "$hh/lib" | wc -l) jars in lib/, $(ls "$hh/minicluster-lib" | wc -l) in minicluster-lib/"
}

install_spark() {
  local sp="$ENGINES_HOME/spark"
  local stamp="pyspark==$PYSPARK_VERSION"
  if stamp_ok "$sp/.stamp" "$stamp" && [[ -x "$sp/pyspark/bin/spark-submit" ]]; then
    log "pyspark $PYSPARK_VERSION: up to date ($sp)"
    return
  fi
  need java "a JDK 17"
  need python3 "Python 3.8+ with pip"
  log "pyspark $PYSPARK_VERSION: pip install --target $sp"
  rm -rf "$sp.tmp"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-cache-dir \
    --target "$sp.tmp" "pyspark==$PYSPARK_VERSION"
  chmod +x "$sp.tmp"/pyspark/bin/* 2>/dev/null || true
  rm -rf "$sp"
  mv "$sp.tmp" "$sp"
  echo "$stamp" >"$sp/.stamp"
  log "pyspark $PYSPARK_VERSION: $(du -sh "$sp" | cut -f1) in $sp"
}

[[ $want_hadoop -eq 1 ]] && install_hadoop
[[ $want_spark -eq 1 ]] && install_spark
exit 0
