# engines/spark/env.sh: source to use the pyspark that engines/install.sh put
# in <repo>/.engines/spark:  `. engines/spark/env.sh; spark-submit ...`.
# Sets SPARK_HOME (the pip package's own pyspark/ dir, which holds bin/ and
# jars/), SPARK_CONF_DIR (quiet log4j2), PYTHONPATH, PYSPARK_PYTHON, PATH.
_engines_spark_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_engines_home="${ENGINES_HOME:-$(cd "$_engines_spark_here/../.." && pwd)/.engines}"
export SPARK_HOME="$_engines_home/spark/pyspark"
export SPARK_CONF_DIR="${SPARK_CONF_DIR:-$_engines_spark_here/conf}"
export PYTHONPATH="$_engines_home/spark${PYTHONPATH:+:$PYTHONPATH}"
export PYSPARK_PYTHON="${PYSPARK_PYTHON:-python3}"
export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$PYSPARK_PYTHON}"
export PATH="$SPARK_HOME/bin:$PATH"
unset _engines_spark_here _engines_home
# Bind the driver and block manager to loopback (no "hostname resolves to a
# loopback address" warning, and nothing listens on an outside interface).
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
