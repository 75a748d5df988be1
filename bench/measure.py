"""measure.py - CPU time and memory of one MTA instance, from /proc.

The instance is the process tree under its master (pid/master.pid). CPU
seconds are the sum over that tree of utime+stime+cutime+cstime: a daemon
that exits during a run is reaped by its parent inside the tree, so its time
moves into the parent's cutime/cstime and is still counted once. Two
snapshots (before the load, after the queue drained) give the cost of the
run. Memory is the sum of PSS (/proc/PID/smaps_rollup) over the tree,
sampled every interval by a background thread; the maximum is reported.
cgroup accounting would be exact, but this machine's cgroup v1 hierarchy is
read-only, so /proc is the one method used everywhere.
"""
import os
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def read_stat(pid):
    """(comm, state, ppid, user, sys, child_user, child_sys, starttime) of a
    process in seconds, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    left, right = data.find("("), data.rfind(")")
    fields = data[right + 2:].split()
    ticks = [int(fields[i]) / CLOCK_TICKS for i in (11, 12, 13, 14)]
    return (data[left + 1:right], fields[0], int(fields[1]), *ticks,
            int(fields[19]))


def read_pss_kb(pid):
    """Proportional set size of a process in kB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _children_by_scan():
    """ppid -> [pid] for the whole system, when the children file is
    missing (kernels without CONFIG_PROC_CHILDREN)."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat:
                table.setdefault(stat[2], []).append(int(entry))
    return table


def process_tree(root):
    """PIDs of root and all its descendants (root first)."""
    if root is None or read_stat(root) is None:
        return []
    use_file = os.path.exists(f"/proc/{root}/task/{root}/children")
    table = None if use_file else _children_by_scan()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(_children(pid) if use_file else table.get(pid, []))
    return tree


def read_runtime(pid):
    """CPU seconds a live process has run, to the nanosecond
    (/proc/PID/schedstat), or None when that file is missing."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def cpu_snapshot(root):
    """CPU seconds of the tree under root: {"total", "user", "sys",
    "by_name"}. total takes each live process's own time from schedstat
    (exact) where it can, stat's clock ticks otherwise, plus the child times
    of reaped processes; user/sys are stat's split (tick-sampled). by_name:
    own time of live processes per command name, a hint for profiling
    (reaped processes show up in their parent's child times)."""
    total = user = system = 0.0
    by_name = {}
    for pid in process_tree(root):
        stat = read_stat(pid)
        if stat is None:
            continue
        comm, _, _, utime, stime, cutime, cstime, _ = stat
        own = read_runtime(pid)
        if own is None or stat[1] == "Z":
            own = utime + stime
        total += own + cutime + cstime
        user += utime + cutime
        system += stime + cstime
        by_name[comm] = by_name.get(comm, 0.0) + own
    return {"total": total, "user": user, "sys": system, "by_name": by_name}


class Sampler:
    """Samples the tree under a master PID every interval seconds in a
    thread: peak total PSS, peak process count. Stop it with stop()."""

    def __init__(self, root, interval=0.1):
        self.root = root
        self.interval = interval
        self.peak_pss_kb = 0
        self.peak_procs = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self):
        tree = process_tree(self.root)
        pss = sum(read_pss_kb(pid) for pid in tree)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.peak_procs = max(self.peak_procs, len(tree))
        self.samples += 1


def machine_busy_seconds():
    """CPU seconds the whole machine has been busy (all CPUs, everything
    but idle and iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def wait_for(predicate, timeout, interval=0.02, stall=None, progress=None):
    """Poll predicate() until it returns true; returns (value, seconds).
    Gives up after timeout seconds, or after stall seconds in which
    progress() did not change; raises TimeoutError saying which."""
    start = time.monotonic()
    last_value, last_change = None, start
    while True:
        value = predicate()
        now = time.monotonic()
        if value:
            return value, now - start
        if progress is not None:
            current = progress()
            if current != last_value:
                last_value, last_change = current, now
            elif stall is not None and now - last_change > stall:
                raise TimeoutError(f"no progress for {stall:.0f} s "
                                   f"(stuck at {current})")
        if now - start > timeout:
            raise TimeoutError(f"gave up after {timeout:.0f} s"
                               + (f" (at {progress()})" if progress else ""))
        time.sleep(interval)
