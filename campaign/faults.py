#!/usr/bin/env python3
"""Issue 8's fault campaign against the real `mr-run` binary.

Each trial runs a job with `-o`, disturbs it, and checks what a user would
find afterwards. A trial FAILS when the job exits 0 with an output that
differs from a clean run's, when a directory stands at the output path
without `_SUCCESS` or with bytes that differ from a clean run's, when a
file the job did not write is gone, or when the next run leaves anything
of the disturbed one behind (temp dir entries, hidden siblings of the
output).

    python3 campaign/faults.py [--trials N] [--quick] [kill signals overwrite diskfull corrupt
                                                      lockrace commitsignal orphans replaced]

Issue 27's groups (in `faults_trust.py`): `lockrace` (two runs take a killed run's output lock at
once: exactly one proceeds, the other is refused, nothing is replaced),
`commitsignal` (SIGTERM/SIGINT/SIGHUP sent as the commit starts: exit 0
exactly when DIR was committed, 128 + the signal exactly when it was
not), `orphans` (`-r streaming` killed with SIGKILL: no process of the
run lives on, nothing keeps writing into its temp dir), `replaced` (an
input replaced by `mv new f` with the same size and mtime while the job
reads it: exit 0 only with the counts of one version, else an error
saying it changed).

`--quick` is CI's version (few trials); the README's figures come from the
default counts. Prints one line per group and a closing
`N passed, N failed` line; exits 1 on any failed trial.
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MR = ROOT / "target" / "release" / "mr-run"


def sh(args, **kw):
    return subprocess.run([str(MR), *args], capture_output=True, **kw)


def read_output(path: Path):
    """The output directory's files and their bytes, or None if absent."""
    if not path.exists():
        return None
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def leftovers(temp: Path, out: Path):
    """Entries the tool created that should be gone once no run is live."""
    left = [f"{temp.name}/{p.name}" for p in temp.iterdir()] if temp.exists() else []
    left += [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return left


class Jobs:
    """The inputs and clean outputs the trials compare against."""

    def __init__(self, work: Path, scale: int):
        self.work = work
        self.scale = scale
        data = work / "data"
        data.mkdir()
        text = data / "text.txt"
        yelp = data / "business.json"
        tera = data / "tera"
        half = data / "half.txt"
        check(sh(["gen", "text", "--size", f"{4 * scale}M", "--seed", "1", "-o", str(text)]))
        check(sh(["gen", "yelp", "--size", f"{8 * scale}M", "--seed", "2", "-o", str(yelp)]))
        check(sh(["teragen", "--rows", str(100_000 * scale), "-o", str(tera), "-q"]))
        half.write_bytes(text.read_bytes()[: text.stat().st_size // 2].rsplit(b"\n", 1)[0] + b"\n")
        common = ["--sort-buffer", "1M", "--reducers", "3", "--workers", "2", "-q"]
        self.cases = {
            "one-step word-count": ["word-count", str(text), *common],
            "two-step yelp-top-city": ["yelp-top-city", str(yelp), *common],
            "terasort": ["terasort", str(tera), *common],
        }
        # For overwrite trials: an older output of another input.
        self.older = ["word-count", str(half), *common]
        self.clean = {}
        self.seconds = {}
        for name, args in list(self.cases.items()) + [("older", self.older)]:
            out = work / f"clean-{len(self.clean)}"
            started = time.monotonic()
            check(sh([*args, "-o", str(out)]))
            self.seconds[name] = time.monotonic() - started
            self.clean[name] = read_output(out)
            shutil.rmtree(out)


def check(proc):
    if proc.returncode != 0:
        sys.exit(f"setup failed: {proc.args}\n{proc.stderr.decode(errors='replace')}")
    return proc


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.groups = []

    def group(self, name, outcomes, failures):
        self.passed += sum(outcomes.values()) - len(failures)
        self.failed += len(failures)
        shown = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f"{name}: {sum(outcomes.values())} trials ({shown}); {len(failures)} failed", flush=True)
        for f in failures[:10]:
            print(f"  FAILED: {f}", flush=True)
        self.groups.append((name, sum(outcomes.values()), shown, len(failures)))


def disturbed_run(jobs, args, out, temp, sig, delay):
    """Starts a job, sends `sig` after `delay` s; returns (exit code, stderr)."""
    proc = subprocess.Popen([str(MR), *args, "-o", str(out), "--temp-dir", str(temp)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    try:
        proc.send_signal(sig)
    except ProcessLookupError:
        pass
    _, err = proc.communicate()
    return proc.returncode, err.decode(errors="replace")


def next_run_cleans_up(jobs, name, out, temp, overwrite, want):
    """The next run into the same output sweeps the killed one's leftovers."""
    args = [*jobs.cases[name], "-o", str(out), "--temp-dir", str(temp)]
    if overwrite or out.exists():
        args.append("--overwrite")
    proc = sh(args)
    problems = []
    if proc.returncode != 0:
        problems.append(f"next run failed: {proc.stderr.decode(errors='replace').strip()}")
    elif read_output(out) != want:
        problems.append("next run's output differs from a clean run")
    left = leftovers(temp, out)
    if left:
        problems.append(f"left behind after the next run: {left}")
    return problems


def kill_group(jobs, tally, trials, sig, label, overwrite=False):
    outcomes = {}
    failures = []
    rng = random.Random(hash((label, trials)))
    for name in jobs.cases:
        want = jobs.clean[name]
        older = jobs.clean["older"]
        for trial in range(trials):
            box = Path(tempfile.mkdtemp(dir=jobs.work))
            out, temp = box / "out", box / "tmp"
            args = list(jobs.cases[name])
            if overwrite:
                out.mkdir()
                for fname, data in older.items():
                    (out / fname).write_bytes(data)
                args.append("--overwrite")
            # Up to past the clean run's end, so commits are hit too.
            delay = rng.uniform(0, jobs.seconds[name] * 1.3)
            code, err = disturbed_run(jobs, args, out, temp, sig, delay)
            found = read_output(out)
            what = f"{label} {name} trial {trial} at {delay:.3f}s"
            problems = []
            if found is not None and "_SUCCESS" not in found:
                problems.append("output directory without _SUCCESS")
            elif found is not None and found != want and not (overwrite and found == older):
                problems.append("output differs from a clean run's")
            if code == 0 and found != want:
                problems.append("exit 0 without the complete output")
            # Killed by the signal before the handler was installed (-sig
            # here) is what a shell also reports as 128 + sig.
            if sig != signal.SIGKILL and code not in (0, 128 + sig, -sig):
                problems.append(f"exit {code} (want {128 + sig}): {err.strip()}")
            if sig != signal.SIGKILL and leftovers(temp, out):
                problems.append(f"left behind by the signalled run: {leftovers(temp, out)}")
            kind = "completed" if code == 0 else ("old kept" if found == older and overwrite else "stopped")
            outcomes[kind] = outcomes.get(kind, 0) + 1
            problems += next_run_cleans_up(jobs, name, out, temp, overwrite, want)
            if problems:
                failures.append(f"{what}: {'; '.join(problems)}")
            shutil.rmtree(box, ignore_errors=True)
    tally.group(label, outcomes, failures)


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    return proc.returncode == 0


def diskfull_group(jobs, tally):
    outcomes = {}
    failures = []
    mnt = jobs.work / "full"
    if not mount_tmpfs(mnt, "2m"):
        # Only root can mount; CI runs as root, so there this is a failure.
        print("diskfull: SKIPPED: cannot mount a tmpfs here (not root?)", flush=True)
        if os.environ.get("CI"):
            tally.group("diskfull", {"could not mount": 1}, ["cannot mount a tmpfs in CI"])
        return
    try:
        tera = jobs.cases["terasort"]
        cases = [
            ("temp dir full", [*tera, "-o", str(jobs.work / "df-out"), "--temp-dir", str(mnt / "tmp")]),
            ("output location full", [*tera, "-o", str(mnt / "out"), "--temp-dir", str(jobs.work / "df-tmp")]),
            ("stdout staging full", [*tera, "--temp-dir", str(mnt / "tmp")]),
        ]
        for label, args in cases:
            proc = sh(args)
            err = proc.stderr.decode(errors="replace")
            problems = []
            if proc.returncode == 0:
                problems.append("exit 0 on a full disk")
            if "No space left on device" not in err:
                problems.append(f"message does not say no space left: {err.strip()}")
            if str(mnt) not in err:
                problems.append(f"message does not name the full location: {err.strip()}")
            if proc.stdout:
                problems.append("something was printed on stdout")
            left = [str(p.relative_to(mnt)) for p in mnt.rglob("*") if p.name != "tmp"]
            left += [p.name for p in (jobs.work).iterdir() if p.name.startswith(("df-out", ".df-out"))]
            tmp = jobs.work / "df-tmp"
            if tmp.exists():
                left += [p.name for p in tmp.iterdir()]
            if left:
                problems.append(f"left behind: {left}")
            outcomes["error"] = outcomes.get("error", 0) + 1
            if problems:
                failures.append(f"{label}: {'; '.join(problems)}")
            else:
                print(f"  {label}: {err.strip()}", flush=True)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
    tally.group("diskfull", outcomes, failures)


def live_files(root):
    """Files over 64 bytes under a running job's temp dir. The job removes
    its task directories as it goes, so a directory or file can vanish
    between listing and looking: that one is skipped, and a vanished
    subtree ends the scan early (the next look starts over)."""
    found = []
    try:
        for p in root.rglob("*"):
            try:
                if p.is_file() and p.stat().st_size > 64:
                    found.append(p)
            except FileNotFoundError:
                continue
    except FileNotFoundError:
        pass
    return found


def corrupt_group(jobs, tally, trials):
    """Flips bytes in, or truncates, a spill or run file while the job runs."""
    outcomes = {}
    failures = []
    rng = random.Random(trials)
    # Long enough (many spills, a few seconds) that a file can be damaged
    # while the job still has to read it.
    tera = jobs.work / "data" / "tera-corrupt"
    if not tera.exists():
        check(sh(["teragen", "--rows", str(250_000 * jobs.scale), "-o", str(tera), "-q"]))
    base = ["terasort", str(tera), "--sort-buffer", "256K", "--reducers", "3", "--workers", "2", "-q"]
    started = time.monotonic()
    clean = jobs.work / "clean-corrupt"
    check(sh([*base, "-o", str(clean)]))
    seconds = time.monotonic() - started
    want = read_output(clean)
    shutil.rmtree(clean)
    for trial in range(trials):
        box = Path(tempfile.mkdtemp(dir=jobs.work))
        out, temp = box / "out", box / "tmp"
        args = [*base, "-o", str(out), "--temp-dir", str(temp)]
        proc = subprocess.Popen([str(MR), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait = rng.uniform(0.05, seconds * 0.8)
        truncate = trial % 3 == 2
        time.sleep(wait)
        damaged = None
        # A data file that is complete: not growing between two looks.
        sizes = {}
        for _ in range(40):
            files = live_files(temp)
            for p in files:
                try:
                    size = p.stat().st_size
                except FileNotFoundError:
                    continue
                if sizes.get(p) == size and damaged is None:
                    try:
                        with open(p, "r+b") as f:
                            if truncate:
                                f.truncate(rng.randrange(0, size))
                            else:
                                pos = rng.randrange(0, size)
                                f.seek(pos)
                                b = f.read(1)
                                f.seek(pos)
                                f.write(bytes([b[0] ^ (1 << rng.randrange(8))]))
                        damaged = p
                    except (FileNotFoundError, IndexError):
                        pass
                sizes[p] = size
            if damaged is not None or proc.poll() is not None:
                break
            time.sleep(0.01)
        _, err = proc.communicate()
        err = err.decode(errors="replace")
        found = read_output(out)
        what = f"corrupt trial {trial} ({'truncate' if truncate else 'flip'} {damaged})"
        problems = []
        if proc.returncode == 0 and found != want:
            problems.append("exit 0 with a wrong answer")
        if found is not None and found != want:
            problems.append("output directory with wrong bytes")
        if proc.returncode != 0 and found is not None:
            problems.append("failed job left an output directory")
        if damaged is None:
            kind = "no file damaged in time"
        elif proc.returncode != 0:
            kind = "detected"
        else:
            kind = "damage never read"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if problems:
            failures.append(f"{what}: {'; '.join(problems)}: {err.strip()}")
        elif kind == "detected" and trial < 3:
            print(f"  {what}: {err.strip()[:200]}", flush=True)
        shutil.rmtree(box, ignore_errors=True)
    tally.group("corrupt", outcomes, failures)


def main():
    # Issue 27's groups, kept beside this file; imported here because they
    # use this module's helpers.
    import faults_trust
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("groups", nargs="*", default=["kill", "signals", "overwrite", "diskfull", "corrupt",
                                                  "lockrace", "commitsignal", "orphans", "replaced"])
    ap.add_argument("--trials", type=int, default=100, help="trials per job and group")
    ap.add_argument("--quick", action="store_true", help="a few trials of each, for CI")
    ap.add_argument("--scale", type=int, help="input size multiplier (default 4, or 1 with --quick)")
    args = ap.parse_args()
    trials = 4 if args.quick else args.trials
    if args.scale is None:
        args.scale = 1 if args.quick else 4
    if not MR.exists():
        check(subprocess.run(["cargo", "build", "--release", "--bin", "mr-run"], cwd=ROOT))
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="mr-campaign-") as work:
        jobs = Jobs(Path(work), args.scale)
        print("clean runs: " + ", ".join(f"{k} {v:.2f}s" for k, v in jobs.seconds.items()), flush=True)
        for g in args.groups:
            if g == "kill":
                kill_group(jobs, tally, trials, signal.SIGKILL, "kill -9")
            elif g == "signals":
                kill_group(jobs, tally, max(1, trials // 4), signal.SIGTERM, "SIGTERM")
                kill_group(jobs, tally, max(1, trials // 4), signal.SIGINT, "SIGINT")
            elif g == "overwrite":
                kill_group(jobs, tally, max(1, trials // 2), signal.SIGKILL, "kill -9 during --overwrite", True)
            elif g == "diskfull":
                diskfull_group(jobs, tally)
            elif g == "corrupt":
                corrupt_group(jobs, tally, max(trials // 2, 20) if not args.quick else 6)
            elif g == "lockrace":
                faults_trust.lockrace_group(jobs, tally, max(1, trials // 4) if not args.quick else 4)
            elif g == "commitsignal":
                faults_trust.commitsignal_group(jobs, tally, max(1, trials // 2) if not args.quick else 9)
            elif g == "orphans":
                faults_trust.orphans_group(jobs, tally, max(1, trials // 10) if not args.quick else 3)
            elif g == "replaced":
                faults_trust.replaced_group(jobs, tally, max(1, trials // 4) if not args.quick else 4)
            else:
                sys.exit(f"unknown group {g}")
    print(f"faults: {tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
