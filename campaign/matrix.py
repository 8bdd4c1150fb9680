#!/usr/bin/env python3
"""Issue 8's bad-input and limits matrix against the real `mr-run` binary.

Each case feeds one awkward input (or setting) to a job and accepts exactly
two outcomes: the correct result (checked against a count made here, in
Python) with exit 0, or a clear error: a non-zero exit, nothing on stdout,
one `error: ...` paragraph and no panic. Either way the peak RSS
(`/usr/bin/time -v`) must stay under a bound. Prints a Markdown table (the
README's) and a closing `N passed, N failed` line; exits 1 on a failure.

    python3 campaign/matrix.py [--quick] [CASE-SUBSTRING ...]

`--quick` shrinks the big inputs (the 100 MB line becomes 80 MiB, the
500 MB file 100 MB) for CI.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MR = ROOT / "target" / "release" / "mr-run"
RSS_BOUND_MB = 700


def run(args, stdin=None, pre="", env=None, input_bytes=None):
    """Runs mr-run under /usr/bin/time; returns (code, stdout, stderr, rss MB)."""
    quoted = " ".join(shquote(a) for a in [str(MR), *args])
    # A regression must not take the shared machine down with it: 8 GB of
    # address space is far above every bound checked here.
    script = f"ulimit -v 8000000; {pre}exec /usr/bin/time -f '%M' -o \"$MR_TIME\" {quoted}"
    with tempfile.NamedTemporaryFile(delete=False) as t:
        timefile = t.name
    proc = subprocess.run(["bash", "-c", script], stdin=stdin, input=input_bytes,
                          capture_output=True, env={**os.environ, "MR_TIME": timefile, **(env or {})})
    try:
        rss = int(Path(timefile).read_text().strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        rss = float("nan")
    os.unlink(timefile)
    return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace"), rss


def shquote(s):
    s = os.fsdecode(s) if isinstance(s, bytes) else str(s)
    return "'" + s.replace("'", "'\\''") + "'"


def count_lines(data: bytes) -> int:
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def clear_error(code, out, err):
    """Why this is not a clear error, or None."""
    if code == 0:
        return "exit 0"
    if code < 0 or code > 128:
        return f"killed by signal (exit {code})"
    if out:
        return "stdout not empty"
    if not err.startswith("error: ") or "panicked" in err:
        return f"unclear stderr: {err[:200]!r}"
    return None


class Matrix:
    def __init__(self, work: Path, quick: bool):
        self.work = work
        self.quick = quick
        self.rows = []
        self.failed = 0

    def record(self, case, job, outcome, rss, problem):
        ok = problem is None and not (rss > RSS_BOUND_MB)
        if rss > RSS_BOUND_MB and problem is None:
            problem = f"peak RSS {rss:.0f} MB over {RSS_BOUND_MB} MB"
        if not ok:
            self.failed += 1
        self.rows.append((case, job, outcome if ok else f"FAILED: {problem}", rss))
        print(f"{'ok  ' if ok else 'FAIL'} {case}: {outcome if ok else problem} ({rss:.0f} MB)", flush=True)

    def expect_lines(self, case, args, want, **kw):
        """count-lines must print `want`, or fail clearly."""
        code, out, err, rss = run(["count-lines", "-q", *args], **kw)
        got = out.decode(errors="replace").strip()
        if code == 0:
            problem = None if got == f"null\t{want}" else f"printed {got!r}, want {want} lines"
            self.record(case, "count-lines", f"correct ({want} lines)", rss, problem)
        else:
            self.record(case, "count-lines", f"error: {first(err)}", rss, clear_error(code, out, err))

    def expect_error(self, case, job, args, must_say=None, **kw):
        code, out, err, rss = run([job, "-q", *args], **kw)
        problem = clear_error(code, out, err)
        if problem is None and must_say and not re.search(must_say, err):
            problem = f"error does not say {must_say!r}: {first(err)}"
        self.record(case, job, f"error: {first(err)}", rss, problem)

    def expect_output(self, case, job, args, want: bytes, **kw):
        """Prints exactly `want`, or fails clearly."""
        code, out, err, rss = run([job, "-q", *args], **kw)
        if code == 0:
            problem = None if out == want else f"printed {out[:200]!r}"
            self.record(case, job, "correct", rss, problem)
        else:
            self.record(case, job, f"error: {first(err)}", rss, clear_error(code, out, err))

    def expect_same(self, case, job, args, base_args, **kw):
        """The output equals the default settings' output."""
        code0, want, err0, _ = run([job, "-q", *base_args])
        code, out, err, rss = run([job, "-q", *args], **kw)
        if code == 0:
            problem = None if out == want and code0 == 0 else "output differs from the default run"
            self.record(case, job, "correct (same as default settings)", rss, problem)
        else:
            self.record(case, job, f"error: {first(err)}", rss, clear_error(code, out, err))

    def file(self, name, data: bytes) -> str:
        p = self.work / name
        p.write_bytes(data)
        return str(p)


def first(err: str) -> str:
    line = err.strip().splitlines()[0] if err.strip() else ""
    line = re.sub(r"/tmp/mr-matrix-[^/ ]*/", "", line).removeprefix("error: ")
    return line[:160]


def cases(m: Matrix):
    rng = random.Random(8)
    mib = 1 << 20
    garbage = rng.randbytes(8 * mib)
    yield "binary garbage (8 MiB)", lambda: m.expect_lines(
        "binary garbage (8 MiB)", [m.file("garbage", garbage)], count_lines(garbage))
    bad_utf8 = b"caf\xe9 ol\xc3\n\xff\xfe\n" * 1000
    yield "invalid UTF-8", lambda: m.expect_lines("invalid UTF-8", [m.file("latin1", bad_utf8)], 2000)
    yield "invalid UTF-8 in a JSON job", lambda: m.expect_error(
        "invalid UTF-8 in a JSON job", "yelp-city-stats", [m.file("latin1.json", b'{"city": "caf\xe9"}\n')],
        must_say="line 1")
    nul = b"a\x00b\n\x00\x00\n" * 1000
    yield "NUL bytes", lambda: m.expect_lines("NUL bytes", [m.file("nul", nul)], 2000)
    crlf = b"one\r\ntwo\r\n\r\nthree"
    yield "CRLF, no final newline", lambda: m.expect_lines("CRLF, no final newline", [m.file("crlf", crlf)], 4)
    line_mb = 80 if m.quick else 100
    yield f"a {line_mb} MB line", lambda: m.expect_error(
        f"a {line_mb} MB line", "word-count", [m.file("longline", b"x" * (line_mb * 1000 * 1000) + b"\n")],
        must_say="max-line-length")
    nonl = 100 if m.quick else 500
    yield f"{nonl} MB with no newline", lambda: m.expect_error(
        f"{nonl} MB with no newline", "word-count", [m.file("nonl", b"ab " * (nonl * 1000 * 1000 // 3))],
        must_say="max-line-length")
    yield "/dev/zero", lambda: m.expect_error("/dev/zero", "word-count", ["/dev/zero"], must_say="max-line-length")
    # In a field the job ignores, so the parser must walk all of it.
    deep = b'{"city": "X", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
    yield "JSON nested 100k deep", lambda: m.expect_output(
        "JSON nested 100k deep", "yelp-city-stats", [m.file("deep.json", deep)],
        b'"X"\t{"businesses": 1, "mean_stars": null, "share_open": 0.0, "reviews": 0}\n')
    yield "1e999", lambda: m.expect_error(
        "1e999", "yelp-city-stats", [m.file("e999.json", b'{"city": "X", "stars": 1e999}\n')], must_say="line 1")
    huge = b'{"city": "X", "review_count": 100000000000000000000000000000}\n'
    yield "huge integer", lambda: m.expect_error(
        "huge integer", "yelp-city-stats", [m.file("huge.json", huge)], must_say="line 1")
    yield "empty file", lambda: m.expect_lines("empty file", [m.file("empty", b"")], 0)
    yield "empty directory", lambda: empty_dir(m)
    yield "FIFO", lambda: fifo(m)
    yield "file truncated while read", lambda: truncated(m)
    yield "file deleted while read", lambda: deleted(m)
    yield "10,000 small files", lambda: small_files(m)
    yield "names with spaces, newlines, non-UTF-8", lambda: odd_names(m)
    text = m.file("text.txt", b"".join(b"w%d x y z\n" % (i % 5000) for i in range(400_000)))
    yield "ulimit -n 64, many spills", lambda: m.expect_same(
        "ulimit -n 64, many spills", "word-count", [text, "--sort-buffer", "64K"], [text], pre="ulimit -n 64; ")
    yield "--workers 64", lambda: m.expect_same("--workers 64", "word-count", [text, "--workers", "64"], [text])
    yield "--reducers 1000", lambda: reducers_1000(m, text)
    yield "--sort-buffer 1K", lambda: m.expect_same("--sort-buffer 1K", "word-count", [text, "--sort-buffer", "1K"], [text])
    yield "--block-size 1", lambda: m.expect_same("--block-size 1", "count-lines", [text, "--block-size", "1"], [text])


def empty_dir(m):
    d = m.work / "emptydir"
    d.mkdir()
    m.expect_error("empty directory", "count-lines", [str(d)], must_say="no files|contains no")


def fifo(m):
    path = m.work / "fifo"
    os.mkfifo(path)
    data = b"".join(b"line %d\n" % i for i in range(20_000))

    def feed():
        try:
            with open(path, "wb") as f:
                f.write(data)
        except BrokenPipeError:
            pass  # the reader stopped early: the count below says so
    t = threading.Thread(target=feed)
    t.start()
    m.expect_lines("FIFO", [str(path)], 20_000)
    t.join()


def truncated(m):
    path = m.work / "shrinking.txt"
    path.write_bytes(b"".join(b"word%d more words here\n" % (i % 1000) for i in range(6_000_000)))

    def shrink():
        time.sleep(0.3)
        os.truncate(path, path.stat().st_size // 3)
    t = threading.Thread(target=shrink)
    t.start()
    code, out, err, rss = run(["word-count", "-q", str(path), "--workers", "1"])
    t.join()
    problem = clear_error(code, out, err)
    m.record("file truncated while read", "word-count", f"error: {first(err)}", rss, problem)


def deleted(m):
    path = m.work / "doomed.txt"
    data = b"".join(b"word%d more words here\n" % (i % 1000) for i in range(3_000_000))
    path.write_bytes(data)

    def remove():
        time.sleep(0.2)
        os.unlink(path)
    t = threading.Thread(target=remove)
    t.start()
    code, out, err, rss = run(["count-lines", "-q", str(path), "--workers", "1", "--block-size", "8M"])
    t.join()
    if code == 0:
        got = out.decode().strip()
        want = f"null\t{count_lines(data)}"
        m.record("file deleted while read", "count-lines", "correct (the open file is still read)", rss,
                 None if got == want else f"printed {got!r}, want {want!r}")
    else:
        m.record("file deleted while read", "count-lines", f"error: {first(err)}", rss, clear_error(code, out, err))


def small_files(m):
    d = m.work / "many"
    d.mkdir()
    for i in range(10_000):
        (d / f"f{i:05}").write_bytes(b"a\nb\n")
    m.expect_lines("10,000 small files", [str(d)], 20_000)


def odd_names(m):
    d = m.work / "odd"
    d.mkdir()
    names = [b"with space.txt", b"new\nline.txt", b"latin\xe9.txt"]
    for n in names:
        (d / os.fsdecode(n)).write_bytes(b"x\ny\n")
    # Named one by one on the command line, so each name is an argument.
    args = [os.fsencode(d / os.fsdecode(n)) for n in names]
    code, out, err, rss = run_bytes(["count-lines", "-q", *args])
    if code == 0 and out.decode().strip() == "null\t6":
        m.record("names with spaces, newlines, non-UTF-8", "count-lines", "correct (6 lines)", rss, None)
    elif code == 0:
        m.record("names with spaces, newlines, non-UTF-8", "count-lines", "", rss, f"printed {out!r}")
    else:
        m.record("names with spaces, newlines, non-UTF-8", "count-lines", f"error: {first(err)}", rss,
                 clear_error(code, out, err) or "a valid file name was refused")


def run_bytes(args):
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", str(MR), *args], capture_output=True)
    err = proc.stderr.decode(errors="replace")
    lines = err.strip().splitlines()
    try:
        rss = int(lines[-1]) / 1024
        err = "\n".join(lines[:-1]) + ("\n" if len(lines) > 1 else "")
    except (ValueError, IndexError):
        rss = float("nan")
    return proc.returncode, proc.stdout, err, rss


def reducers_1000(m, text):
    out = m.work / "r1000"
    _, want, _, _ = run(["word-count", "-q", text])
    code, _, err, rss = run(["word-count", "-q", text, "--reducers", "1000", "-o", str(out)])
    if code != 0:
        m.record("--reducers 1000", "word-count", f"error: {first(err)}", rss, clear_error(code, b"", err))
        return
    parts = sorted(p for p in out.iterdir() if p.name.startswith("part-"))
    got = sorted(b"".join(p.read_bytes() for p in parts).splitlines())
    problem = None if got == sorted(want.splitlines()) and len(parts) == 1000 else "parts differ"
    m.record("--reducers 1000", "word-count", "correct (1000 parts, same lines)", rss, problem)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="*")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if not MR.exists():
        subprocess.run(["cargo", "build", "--release", "--bin", "mr-run"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory(prefix="mr-matrix-", dir=os.environ.get("TMPDIR")) as work:
        m = Matrix(Path(work), args.quick)
        for name, case in cases(m):
            if not args.only or any(o in name for o in args.only):
                case()
        print("\n| input | job | outcome | peak RSS MB |\n|---|---|---|---|")
        for case, job, outcome, rss in m.rows:
            print(f"| {case} | `{job}` | {outcome.replace('|', '/')} | {rss:.0f} |")
        print(f"\nmatrix: {len(m.rows) - m.failed} passed, {m.failed} failed")
        return 1 if m.failed else 0


if __name__ == "__main__":
    sys.exit(main())
