"""mr-run's Spark driver (shipped inside every job binary; `-r spark` writes
it to the run's directory and runs `spark-submit` on it).

Runs a job's steps as Streaming tasks of the job binary, which `--files`
ships to every executor:

    textFile(input file) -> mapper task per partition
      -> partition by the line's PART field, as Hadoop's KeyFieldBasedPartitioner
         sends it, and sort within partitions in byte order
      -> reducer task per partition -> the next step ... -> saveAsTextFile

A total-order step after the first is preceded by a sample of the previous
step's output, cut into its partition file here (`add_partition_file`).

Each task is a process of the binary fed through a pipe, as RDD.pipe does,
but started here so that it gets the environment Hadoop Streaming gives a
task (the input file, the split's start, the partition) and so that a
failed task's own error paragraph reaches the driver. Counters come back
through an accumulator and are written as JSON for the runner.

Usage: spark-submit ... spark_driver.py SPEC.json   (the spec is written by
src/runner/cluster/spark.rs).
"""

import json
import os
import subprocess
import sys
import threading

from pyspark import AccumulatorParam, SparkContext, SparkFiles, StorageLevel


class CounterParam(AccumulatorParam):
    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        for key, amount in b.items():
            a[key] = a.get(key, 0) + amount
        return a


def hadoop_partition(token, reducers):
    """KeyFieldBasedPartitioner -k1,1: Java int 31*h + (signed) byte from 0."""
    h = 0
    for b in token:
        if b >= 128:
            b -= 256
        h = (31 * h + b) & 0xFFFFFFFF
    return (h & 0x7FFFFFFF) % reducers


def run_task(binary, argv, env_extra, lines, counters, step):
    """Runs one task process over `lines` (bytes, no newline); yields its
    output lines. Fails with the task's own error paragraph."""
    exe = SparkFiles.get(binary)
    env = dict(os.environ)
    env.update(env_extra)
    proc = subprocess.Popen(
        [exe] + argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=SparkFiles.getRootDirectory(),
    )

    def feed():
        try:
            for line in lines:
                proc.stdin.write(line)
                proc.stdin.write(b"\n")
        except BrokenPipeError:
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass

    stderr = []

    def drain():
        stderr.append(proc.stderr.read())

    threads = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, daemon=True)]
    for t in threads:
        t.start()
    for line in proc.stdout:
        yield line[:-1] if line.endswith(b"\n") else line
    for t in threads:
        t.join()
    code = proc.wait()
    message = []
    found = {}
    for line in b"".join(stderr).decode("utf-8", "replace").splitlines():
        if line.startswith("reporter:counter:"):
            rest, _, amount = line[len("reporter:counter:"):].rpartition(",")
            group, _, name = rest.partition(",")
            try:
                key = "%d\t%s\t%s" % (step, group, name)
                found[key] = found.get(key, 0) + int(amount)
                continue
            except ValueError:
                pass
        elif line.startswith("reporter:status:"):
            continue
        message.append(line)
    if code != 0:
        raise RuntimeError(
            "mr-run task failed with exit status %d:\n%s\n" % (code, "\n".join(message) or "(it printed nothing)")
        )
    counters.add(found)


def add_partition_file(sc, rdd, binary, sample, env, counters, n, work):
    """Step n's total-order boundaries from the previous step's output
    (`rdd`, pair lines): each partition sampled apart by the binary
    (`--sample-pairs`), the samples together cut here (`--sample-partitions`)
    into the partition file that the step's mappers name, which every task
    then gets (`addFile`). A sample of samples is the sample of the whole
    (src/runner/sample/pairs.rs), so the boundaries are the local runner's."""
    sampled = rdd.mapPartitions(lambda lines: run_task(binary, sample["pairs"], env, lines, counters, n)).collect()
    proc = subprocess.run(
        [SparkFiles.get(binary)] + sample["partitions"],
        input=b"".join(line + b"\n" for line in sampled),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, **env),
        cwd=SparkFiles.getRootDirectory(),
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(
            "mr-run task failed with exit status %d:\n%s\n" % (proc.returncode, message or "(it printed nothing)")
        )
    path = os.path.join(work, sample["file"])
    with open(path, "wb") as f:
        f.write(proc.stdout)
    sc.addFile(path)


def input_files(sc, uri):
    """The files an input names, as the local runner lists them: a glob's
    matches sorted, a directory's visible files (not `_` or `.` names)
    sorted, not recursive."""
    jvm = sc._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(sc._jsc.hadoopConfiguration())
    statuses = fs.globStatus(path)
    if statuses is None or len(statuses) == 0:
        raise SystemExit("error: input not found: %s" % uri)
    out = []
    for st in sorted(statuses, key=lambda s: s.getPath().toString()):
        if st.isDirectory():
            kids = [
                k.getPath().toString()
                for k in fs.listStatus(st.getPath())
                if k.isFile() and not k.getPath().getName().startswith(("_", "."))
            ]
            out.extend(sorted(kids))
        else:
            out.append(st.getPath().toString())
    return out


def split_starts(rdd):
    """Each partition's first byte in its file, from the HadoopRDD under a
    textFile RDD."""
    hadoop_rdd = rdd._jrdd.rdd().dependencies().head().rdd()
    return [p.inputSplit().value().getStart() for p in hadoop_rdd.partitions()]


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    # The run's directory (the spec's), where sampled partition files go.
    work = os.path.dirname(os.path.abspath(sys.argv[1]))
    sc = SparkContext(appName=spec["name"])
    sc.setLogLevel("WARN")
    counters = sc.accumulator({}, CounterParam())
    binary = spec["binary"]
    # -D KEY=VALUE reaches tasks as Hadoop Streaming exports it.
    jobconf = {"".join(c if c.isascii() and c.isalnum() else "_" for c in k): v for k, v in spec.get("jobconf", [])}
    reducers = spec["reducers"]
    files = []
    for uri, input_name in zip(spec["inputs"], spec["input_names"]):
        files.extend((f, input_name) for f in input_files(sc, uri))
    inputs_json = json.dumps(spec["inputs"])
    rdd = None
    for n, step in enumerate(spec["steps"]):
        if n == 0:
            parts = []
            for name, input_name in files:
                text = sc.textFile(name, use_unicode=False)
                starts = split_starts(text)

                def first(i, lines, name=name, input_name=input_name, starts=starts, step=step, n=n):
                    env = {
                        "mapreduce_map_input_file": name,
                        "mapreduce_map_input_start": str(starts[i]),
                        "mapreduce_task_partition": str(i),
                        "mapreduce_job_reduces": str(reducers),
                        "mr_run_inputs": inputs_json,
                    }
                    if input_name is not None:
                        env["mr_run_input"] = input_name
                    return run_task(binary, step["mapper"], dict(jobconf, **env), lines, counters, n)

                parts.append(text.mapPartitionsWithIndex(first))
            mapped = sc.union(parts) if len(parts) != 1 else parts[0]
        else:
            if step.get("sample") is not None:
                # Sampled first, then read again by the step: kept, so that
                # the previous step's tasks run (and count) once.
                rdd = rdd.persist(StorageLevel.MEMORY_AND_DISK)
                env = dict(jobconf, mapreduce_job_reduces=str(reducers))
                add_partition_file(sc, rdd, binary, step["sample"], env, counters, n, work)

            def later(i, lines, step=step, n=n):
                env = {
                    "mapreduce_map_input_file": "step-%d/part-%05d" % (n - 1, i),
                    "mapreduce_task_partition": str(i),
                    "mapreduce_job_reduces": str(reducers),
                    "mr_run_inputs": inputs_json,
                }
                return run_task(binary, step["mapper"], dict(jobconf, **env), lines, counters, n)

            mapped = rdd.mapPartitionsWithIndex(later)
        if step["reducer"] is None:
            rdd = mapped
            continue

        def part_of(line):
            return hadoop_partition(line.split(b"\t", 1)[0], reducers)

        shuffled = (
            mapped.map(lambda line: (line, None))
            .repartitionAndSortWithinPartitions(reducers, part_of)
            .keys()
        )

        def reduce(i, lines, step=step, n=n):
            env = {"mapreduce_task_partition": str(i), "mapreduce_job_reduces": str(reducers)}
            return run_task(binary, step["reducer"], dict(jobconf, **env), lines, counters, n)

        rdd = shuffled.mapPartitionsWithIndex(reduce)

    def text(line):
        # saveAsTextFile writes strings: output that is not UTF-8 would be
        # changed, so it fails instead.
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RuntimeError("mr-run: error: the job's output is not UTF-8, which Spark's text output cannot keep: %s" % e)

    rdd.map(text).saveAsTextFile(spec["output"])
    with open(spec["report"], "w") as f:
        json.dump(counters.value, f)
    sc.stop()


if __name__ == "__main__":
    main()
