#!/usr/bin/env python3
"""Empirical check of how real Hadoop Streaming assigns keys to reducers.

Runs Streaming jobs (local job runner, via engines/hadoop/hadoop) whose mapper
is `cat` over lines `K1<TAB>K2<TAB>vN`, with a `cat` reducer, then checks that
every line landed in the part-NNNNN that the formulas below predict.  Keys
include non-ASCII (UTF-8 bytes >= 0x80 are *signed* in Java), an empty first
field, and a single-field line.

Formulas (read from the 3.4.2 bytecode with javap -c; see engines/README.md):

  KeyFieldBasedPartitioner with key specs (-k...):
      h = 0; for each spec: for b in key_bytes[start..=end]: h = 31*h + signed(b)
      partition = (h & 0x7fffffff) % R
  KeyFieldBasedPartitioner with no spec: (String.hashCode(key) & 0x7fffffff) % R
  HashPartitioner (the default): Text.hashCode = WritableComparator.hashBytes,
      h = 1; for b in key_bytes: h = 31*h + signed(b); (h & 0x7fffffff) % R

Usage: engines/hadoop/check_partitioner.py [WORKDIR]   (exit 0 iff all match)
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HADOOP = os.path.join(HERE, "hadoop")
ENGINES_HOME = os.environ.get("ENGINES_HOME", os.path.join(HERE, "..", "..", ".engines"))
STREAMING = os.path.join(ENGINES_HOME, "hadoop", "hadoop-streaming.jar")


def i32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def signed(b):
    return b - 256 if b >= 128 else b


def hash_bytes(bs, seed):
    h = seed
    for b in bs:
        h = i32(31 * h + signed(b))
    return h


def java_string_hash(s):
    h = 0
    for unit in utf16_units(s):
        h = i32(31 * h + unit)
    return h


def utf16_units(s):
    raw = s.encode("utf-16-be")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, len(raw), 2)]


def fields(key):
    return key.split(b"\t")


def kfb_partition(key, specs, r):
    """specs: list of (first_field, last_field), 1-based, whole fields only."""
    if not specs:
        return (java_string_hash(key.decode("utf-8")) & 0x7FFFFFFF) % r
    if not key:
        return 0
    fs = fields(key)
    h = 0
    for first, last in specs:
        if len(fs) < first:
            continue  # getStartOffset returns -1: the spec is skipped
        last = min(last, len(fs))
        h = hash_bytes(b"\t".join(fs[first - 1:last]), h)
    return (h & 0x7FFFFFFF) % r


def hash_bytes_unsigned(bs, seed):
    h = seed
    for b in bs:
        h = i32(31 * h + b)
    return h


def kfb_key_bytes(key, specs):
    """The bytes a single-spec KeyFieldBasedPartitioner hashes (None: skipped)."""
    (first, last), = specs
    fs = fields(key)
    if not key or len(fs) < first:
        return None
    return b"\t".join(fs[first - 1:min(last, len(fs))])


def hash_partition(key, r):
    return (hash_bytes(key, 1) & 0x7FFFFFFF) % r


def streaming_key(line, nkeyfields):
    fs = line.split(b"\t")
    if len(fs) <= nkeyfields:
        return line  # fewer fields than asked: the whole line is the key
    return b"\t".join(fs[:nkeyfields])


def make_lines():
    firsts = [
        "a", "b", "c", "k0", "k1", "k2", "apple", "banana", "cherry", "zzz",
        "Hadoop", "MapReduce", "0", "1", "42", "-7", "x" * 40, "café", "naïve",
        "日本", "Ω", "😀", "a b", "key,with,commas", "", "ÿÿÿÿ",
    ] + [f"w{i}" for i in range(60)] + [f"user-{i * 7919}" for i in range(40)]
    lines = []
    for i, f in enumerate(firsts):
        for j in range(3):
            lines.append(f"{f}\ts{(i + j) % 5}\tv{i}-{j}".encode())
    lines.append(b"onlyonefield")
    lines.append(b"two\tfields")
    return lines


def run_job(workdir, name, lines, r, args):
    inp = os.path.join(workdir, name + ".in")
    out = os.path.join(workdir, name + ".out")
    os.makedirs(inp, exist_ok=True)
    with open(os.path.join(inp, "input.txt"), "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [HADOOP, "jar", STREAMING] + args + [
        "-numReduceTasks", str(r), "-input", inp, "-output", out,
        "-mapper", "cat", "-reducer", "cat",
    ]
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t0
    landed = {}
    for p in range(r):
        with open(os.path.join(out, f"part-{p:05d}"), "rb") as fh:
            for ln in fh.read().split(b"\n"):
                if ln:
                    # A line that is all key (no TAB after the key fields) comes
                    # back as KEY<TAB>: Streaming's output is always key TAB value.
                    if ln.endswith(b"\t"):
                        ln = ln[:-1]
                    landed.setdefault(ln, set()).add(p)
    return landed, wall


def main():
    workdir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="kfbp-")
    lines = make_lines()
    kfb = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
    cases = [
        # name, reducers, extra args, key fields, predictor(key, r)
        ("kfb_k1_R2", 2, ["-D", "stream.num.map.output.key.fields=2",
                          "-D", "mapreduce.partition.keypartitioner.options=-k1,1",
                          "-partitioner", kfb], 2,
         lambda k, r: kfb_partition(k, [(1, 1)], r)),
        ("kfb_k1_R7", 7, ["-D", "stream.num.map.output.key.fields=2",
                          "-D", "mapreduce.partition.keypartitioner.options=-k1,1",
                          "-partitioner", kfb], 2,
         lambda k, r: kfb_partition(k, [(1, 1)], r)),
        ("kfb_k2_R5", 5, ["-D", "stream.num.map.output.key.fields=2",
                          "-D", "mapreduce.partition.keypartitioner.options=-k2,2",
                          "-partitioner", kfb], 2,
         lambda k, r: kfb_partition(k, [(2, 2)], r)),
        ("kfb_k1k2_R7", 7, ["-D", "stream.num.map.output.key.fields=2",
                            "-D", "mapreduce.partition.keypartitioner.options=-k1,2",
                            "-partitioner", kfb], 2,
         lambda k, r: kfb_partition(k, [(1, 2)], r)),
        ("default_hash_R7", 7, [], 1, hash_partition),
        ("default_hash_2keys_R3", 3, ["-D", "stream.num.map.output.key.fields=2"], 2,
         hash_partition),
    ]
    ok = True
    for name, r, args, nkf, predict in cases:
        landed, wall = run_job(workdir, name, lines, r, args)
        bad = 0
        for ln in lines:
            want = predict(streaming_key(ln, nkf), r)
            got = landed.get(ln)
            if got != {want}:
                bad += 1
                if bad <= 5:
                    print(f"  MISMATCH {name}: {ln!r} predicted {want} landed {got}")
        # Negative controls: the same job judged by near-miss formulas must fail.
        alt = {"seed swapped (0<->1)": 0, "unsigned bytes": 0}
        for ln in lines:
            k = streaming_key(ln, nkf)
            got = landed.get(ln)
            if name.startswith("kfb"):
                spec = {"kfb_k1": [(1, 1)], "kfb_k2": [(2, 2)], "kfb_k1k2": [(1, 2)]}[name.rsplit("_", 1)[0]]
                part = kfb_key_bytes(k, spec)
                seeds = (1, 0)
            else:
                part, seeds = k, (0, 1)
            if part is None:
                continue
            a = (hash_bytes(part, seeds[0]) & 0x7FFFFFFF) % r
            u = (hash_bytes_unsigned(part, seeds[1]) & 0x7FFFFFFF) % r
            alt["seed swapped (0<->1)"] += got != {a}
            alt["unsigned bytes"] += got != {u}
        print(f"   controls for {name}: " + ", ".join(f"{n} -> {c} mismatches" for n, c in alt.items()))
        counts = [sum(1 for s in landed.values() if p in s) for p in range(r)]
        status = "OK" if bad == 0 else "FAIL"
        print(f"{status} {name}: {len(lines)} lines, {bad} mismatches, "
              f"per-part {counts}, {wall:.1f}s")
        ok &= bad == 0
    # A few worked values for the README.
    for s in ["a", "apple", "café", "日本", ""]:
        b = s.encode()
        print(f"  -k1,1 hash({s!r}) = {hash_bytes(b, 0)} -> R=2:{kfb_partition(b, [(1, 1)], 2)}"
              f" R=7:{kfb_partition(b, [(1, 1)], 7)}; HashPartitioner R=7:"
              f" {hash_partition(b, 7)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
