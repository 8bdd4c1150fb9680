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

Issue 27's groups: `lockrace` (two runs take a killed run's output lock at
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


def strace_delay(syscalls, usec, exit_too=False):
    """A command prefix delaying the first call of each of `syscalls` by
    `usec` (on entry, and on exit too with `exit_too`), or None where
    strace cannot trace (not installed, no ptrace)."""
    if shutil.which("strace") is None:
        return None
    prefix = ["strace", "-f", "-qq", "-o", "/dev/null"]
    for sc in syscalls:
        delay = f"delay_enter={usec}" + (f":delay_exit={usec}" if exit_too else "")
        prefix += ["-e", f"inject={sc}:{delay}:when=1"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    return prefix if probe.returncode == 0 else None


def traced_pid(strace_pid):
    """The process strace (`strace_pid`) started, or strace's own PID."""
    try:
        for task in (Path("/proc") / str(strace_pid) / "task").iterdir():
            children = (task / "children").read_text().split()
            if children:
                return int(children[0])
    except OSError:
        pass
    return strace_pid


def lockrace_group(jobs, tally, trials):
    """Two runs into one DIR take a killed run's lock at the same moment.
    One of them is slowed, under strace, just where the lock is decided
    (on `flock`, and on the `unlink` of a lock taken by PID), so the other
    slips in there and holds DIR (its commit slowed too): exactly one may
    proceed, the other must be refused, and the output is the complete
    clean one."""
    outcomes = {}
    failures = []
    slow = strace_delay(["flock", "unlink", "unlinkat"], 400_000)
    # The other holds DIR a while: its commit's rename waits a second.
    hold = strace_delay(["rename", "renameat", "renameat2"], 1_000_000)
    if slow is None:
        print("lockrace: strace cannot trace here; the runs race unaided", flush=True)
    name = "one-step word-count"
    want = jobs.clean[name]
    for trial in range(trials):
        box = Path(tempfile.mkdtemp(dir=jobs.work))
        out = box / "out"
        # What a run killed by -9 leaves: a lock naming a process that is gone.
        (box / ".out.mr-lock").write_text("99999999\n")
        args = [*jobs.cases[name], "-o", str(out)]
        procs = []
        for i in range(2):
            prefix = (slow if i == 0 else hold) or []
            procs.append(subprocess.Popen([*prefix, str(MR), *args, "--temp-dir", str(box / f"tmp{i}")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            time.sleep(0.15 if slow and i == 0 else 0)
        results = [(p.wait(), p.stderr.read().decode(errors="replace")) for p in procs]
        codes = [c for c, _ in results]
        problems = []
        winners = codes.count(0)
        if winners != 1:
            problems.append(f"{winners} runs exited 0 (exit codes {codes})")
        for code, err in results:
            if code != 0 and not ("another run" in err or "already exists" in err):
                problems.append(f"exit {code}, yet not refused at the lock (both runs took it): {err.strip()}")
        if read_output(out) != want:
            problems.append("output differs from a clean run's")
        left = [p.name for p in box.iterdir() if p.name.startswith(".out.")]
        if left:
            problems.append(f"left behind: {left}")
        kind = "one refused while the other ran" if any("another run" in e for _, e in results) else "one after the other"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if problems:
            failures.append(f"lockrace trial {trial}: {'; '.join(problems)}")
        shutil.rmtree(box, ignore_errors=True)
    tally.group("lockrace", outcomes, failures)


def commitsignal_group(jobs, tally, trials):
    """A signal as the commit starts (`_SUCCESS` appears in the staging
    directory) or just after its rename (DIR appears, or changes inode
    with --overwrite). Under strace the commit's rename is slowed on entry
    and on exit, so the signal lands inside the commit. Exit 0 exactly
    when DIR holds the new output, 128 + the signal exactly when it does
    not (with --overwrite: when it holds the old one), and nothing left."""
    outcomes = {}
    failures = []
    name = "one-step word-count"
    want, older = jobs.clean[name], jobs.clean["older"]
    sigs = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    slow = strace_delay(["rename", "renameat", "renameat2"], 300_000, exit_too=True)
    if slow is None:
        print("commitsignal: strace cannot trace here; signals race the commit unaided", flush=True)
    for trial in range(trials):
        box = Path(tempfile.mkdtemp(dir=jobs.work))
        out, temp = box / "out", box / "tmp"
        overwrite = trial % 2 == 1
        after_rename = trial % 4 >= 2
        args = list(jobs.cases[name])
        inode = None
        if overwrite:
            out.mkdir()
            for fname, data in older.items():
                (out / fname).write_bytes(data)
            args.append("--overwrite")
            inode = out.stat().st_ino
        sig = sigs[trial % len(sigs)]
        proc = subprocess.Popen([*(slow or []), str(MR), *args, "-o", str(out), "--temp-dir", str(temp)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def renamed():
            try:
                return out.stat().st_ino != inode
            except FileNotFoundError:
                return False

        def commit_started():
            return any(p.name.startswith(".out.mr-staging-") and (p / "_SUCCESS").exists()
                       for p in box.iterdir())

        reached = renamed if after_rename else commit_started
        deadline = time.monotonic() + 120
        while not reached() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        try:
            # To mr-run itself: strace, signalled, would detach and go.
            os.kill(traced_pid(proc.pid) if slow else proc.pid, sig)
        except ProcessLookupError:
            pass
        _, err = proc.communicate()
        err = err.decode(errors="replace")
        code = proc.returncode
        found = read_output(out)
        before = older if overwrite else None
        problems = []
        if code == 0:
            kind = "committed, exit 0"
            if found != want:
                problems.append("exit 0 without the new output")
        elif code in (128 + sig, -sig):
            kind = f"stopped, exit {code}"
            if found != before:
                problems.append("exit %d but DIR %s" % (code, "holds the new output" if found == want else "changed"))
        else:
            kind = f"exit {code}"
            problems.append(f"exit {code}: {err.strip()}")
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if leftovers(temp, out):
            problems.append(f"left behind: {leftovers(temp, out)}")
        if problems:
            when = "after the rename" if after_rename else "at the commit's start"
            failures.append(f"commitsignal trial {trial} ({signal.Signals(sig).name} {when}): {'; '.join(problems)}")
        shutil.rmtree(box, ignore_errors=True)
    tally.group("commitsignal", outcomes, failures)


def processes_touching(path: Path):
    """PIDs (not ours) whose command line, environment, working directory
    or open files name something under `path`."""
    mark = str(path)
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            text = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
            hit = mark.encode() in text or os.readlink(proc / "cwd").startswith(mark)
            if not hit:
                for fd in (proc / "fd").iterdir():
                    try:
                        if os.readlink(fd).startswith(mark):
                            hit = True
                            break
                    except OSError:
                        continue
        except OSError:
            continue
        if hit:
            found.append(int(proc.name))
    return found


def tree_size(root: Path):
    total = 0
    for p in root.rglob("*"):
        try:
            total += p.stat().st_size
        except OSError:
            continue
    return total


def children(pid):
    """(PID, command name) of each child process of `pid`."""
    found = []
    try:
        for task in (Path("/proc") / str(pid) / "task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    found.append((int(child), (Path("/proc") / child / "comm").read_text().strip()))
                except OSError:
                    continue
    except OSError:
        pass
    return found


def orphans_group(jobs, tally, trials):
    """`-r streaming` killed with SIGKILL while GNU sort runs (or at a
    random moment): shortly after, no process of the run (task processes,
    sort) may still run, and nothing may still be writing into its temp
    dir. Without a parent-death signal, sort runs on for seconds."""
    outcomes = {}
    failures = []
    rng = random.Random(trials * 11)
    base = ["word-count", "-r", "streaming", "--block-size", "2M", "--sort-buffer", "1M",
            "--reducers", "3", "--workers", "2", "-q"]
    text = jobs.work / "data" / "orphans.txt"
    if not text.exists():
        check(sh(["gen", "text", "--size", f"{16 * jobs.scale}M", "--seed", "5", "-o", str(text)]))
    started = time.monotonic()
    clean = jobs.work / "clean-streaming"
    check(sh([*base, str(text), "-o", str(clean)]))
    seconds = time.monotonic() - started
    shutil.rmtree(clean)
    for trial in range(trials):
        box = Path(tempfile.mkdtemp(dir=jobs.work))
        # Inside the box, so every task process names it (in its environment).
        input_ = box / "text.txt"
        os.link(text, input_)
        temp = box / "tmp"
        proc = subprocess.Popen([str(MR), *base, str(input_), "-o", str(box / "out"), "--temp-dir", str(temp)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        at_sort = trial % 2 == 0
        deadline = time.monotonic() + (seconds * 2 if at_sort else rng.uniform(0.2, 0.9) * seconds)
        while time.monotonic() < deadline and proc.poll() is None:
            if at_sort and any(comm == "sort" for _, comm in children(proc.pid)):
                time.sleep(0.05)
                break
            time.sleep(0.002)
        when = time.monotonic() - started
        finished = proc.poll() is not None
        proc.kill()
        proc.wait()
        time.sleep(0.3)
        problems = []
        live = processes_touching(box)
        size = tree_size(temp)
        time.sleep(0.3)
        grown = tree_size(temp) - size
        if grown > 0:
            problems.append(f"{grown} bytes written into the temp dir after the kill")
        if live:
            names = []
            for pid in live:
                try:
                    names.append(f"{pid} {(Path('/proc') / str(pid) / 'comm').read_text().strip()}")
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            problems.append(f"processes still running after the kill: {names}")
        kind = "finished first" if finished else ("killed during sort" if at_sort else "killed")
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if problems:
            failures.append(f"orphans trial {trial} ({kind}): {'; '.join(problems)}")
        shutil.rmtree(box, ignore_errors=True)
    tally.group("orphans", outcomes, failures)


def replaced_group(jobs, tally, trials):
    """`mv new f` while the job reads f, `new` of the same size and mtime
    but other words: exit 0 only with the counts of one version, else an
    error saying the input changed."""
    outcomes = {}
    failures = []
    rng = random.Random(trials * 13)
    base = ["word-count", "--block-size", "256K", "--sort-buffer", "1M", "--reducers", "3", "--workers", "2", "-q"]
    text = jobs.work / "data" / "text.txt"
    data = text.read_bytes()
    # Same length, other words: swapped letters.
    other = data.translate(bytes.maketrans(b"aeio", b"eaoi"))
    versions = {}
    for label, content in (("old", data), ("new", other)):
        src = jobs.work / f"replaced-{label}.txt"
        src.write_bytes(content)
        out = jobs.work / f"clean-replaced-{label}"
        started = time.monotonic()
        check(sh([*base, str(src), "-o", str(out)]))
        versions[label] = read_output(out)
        shutil.rmtree(out)
    seconds = time.monotonic() - started
    for trial in range(trials):
        box = Path(tempfile.mkdtemp(dir=jobs.work))
        f, new = box / "f.txt", box / "new.txt"
        f.write_bytes(data)
        new.write_bytes(other)
        st = f.stat()
        os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
        out = box / "out"
        proc = subprocess.Popen([str(MR), *base, str(f), "-o", str(out), "--temp-dir", str(box / "tmp")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        delay = rng.uniform(0.1, 0.7) * seconds
        time.sleep(delay)
        os.rename(new, f)
        _, err = proc.communicate()
        err = err.decode(errors="replace")
        found = read_output(out)
        problems = []
        if proc.returncode == 0:
            kind = next((k for k, v in versions.items() if v == found), None)
            if kind is None:
                problems.append("exit 0 with the counts of neither version")
                kind = "mixed"
            else:
                kind = f"exit 0, {kind} version"
        else:
            kind = "detected"
            if "changed" not in err:
                problems.append(f"exit {proc.returncode} without saying the input changed: {err.strip()}")
            if found is not None:
                problems.append("a failed job left an output directory")
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if problems:
            failures.append(f"replaced trial {trial} at {delay:.2f}s: {'; '.join(problems)}")
        shutil.rmtree(box, ignore_errors=True)
    tally.group("replaced", outcomes, failures)


def main():
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
                lockrace_group(jobs, tally, max(1, trials // 4) if not args.quick else 4)
            elif g == "commitsignal":
                commitsignal_group(jobs, tally, max(1, trials // 2) if not args.quick else 9)
            elif g == "orphans":
                orphans_group(jobs, tally, max(1, trials // 10) if not args.quick else 3)
            elif g == "replaced":
                replaced_group(jobs, tally, max(1, trials // 4) if not args.quick else 4)
            else:
                sys.exit(f"unknown group {g}")
    print(f"faults: {tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
