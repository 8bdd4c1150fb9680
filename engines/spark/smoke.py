"""engines/spark/smoke.py: smallest Spark check of the piping path.

    engines/spark/spark-submit --master 'local[2]' engines/spark/smoke.py IN OUT

Reads IN (a text file or directory), pipes every partition through `cat`
(an external process, as the MapReduce runner's tasks will be), and writes
OUT as part-NNNNN text files.  Prints the line counts in and out.
"""
import sys

from pyspark import SparkConf, SparkContext


def main():
    inp, out = sys.argv[1], sys.argv[2]
    sc = SparkContext(conf=SparkConf().setAppName("engines-smoke"))
    try:
        lines = sc.textFile(inp, minPartitions=2)
        piped = lines.pipe("cat")
        piped.saveAsTextFile(out)
        n_in, n_out = lines.count(), sc.textFile(out).count()
        print(f"smoke: spark {sc.version}, {lines.getNumPartitions()} partitions, "
              f"{n_in} lines in, {n_out} lines out")
        if n_in != n_out:
            sys.exit(1)
    finally:
        sc.stop()


if __name__ == "__main__":
    main()
