"""Issue 27's groups of the fault campaign (`faults.py` runs them; see its
docs): the output lock raced for, signals at commit time, `-r streaming`'s
children after a SIGKILL, an input replaced by rename while read."""

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from faults import MR, check, leftovers, read_output, sh


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

