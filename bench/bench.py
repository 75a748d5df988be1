#!/usr/bin/python3
"""bench.py - `make bench`: Postern and Debian's Postfix side by side.

Starts a fresh instance of each MTA per run (own directory, 127.0.0.1, a
free port, the same main.cf settings and default durability), drives the
same scenario against it, alternating Postern and Postfix run by run, on
disk (/var/tmp) and on tmpfs. Reports per scenario and file system the
median over the runs of: messages per second end to end, CPU seconds per
1,000 messages of all the MTA's processes, peak memory (PSS), and for the
latency scenario p50/p99 of "." -> 250; with the Postern/Postfix ratio.
A run reports numbers only after every message was found at its
destination exactly once. Writes a table to stdout and JSON lines to
bench/results.jsonl (or --json). Needs root for Postfix (its master will
not start otherwise) and for mounting tmpfs; without root it benchmarks
Postern alone, with tmpfs from /dev/shm.
Stdlib only; runs under Debian's /usr/bin/python3.
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import measure
import mta
import scenarios
from scenarios import RunFailed

REPO = pathlib.Path(__file__).resolve().parents[1]
FS_KINDS = ("disk", "tmpfs")
MTAS = ("postern", "postfix")
POSTFIX_TOOLS = ("/usr/sbin/postfix", scenarios.SMTP_SOURCE,
                 scenarios.SMTP_SINK)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Benchmark Postern against Debian's Postfix.")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per MTA, scenario and fs (default 3)")
    parser.add_argument("--messages", type=int, default=2000,
                        help="messages per throughput run (default 2000)")
    parser.add_argument("--latency-messages", type=int, default=300,
                        help="timed messages per latency run (default 300)")
    parser.add_argument("--sessions", type=int, default=20,
                        help="parallel smtp-source sessions (default 20)")
    parser.add_argument("--size", type=int, default=2048,
                        help="message size in bytes (default 2048)")
    parser.add_argument("--scenario", default="all",
                        help="comma list of " + ",".join(scenarios.SCENARIOS)
                        + " or all (default)")
    parser.add_argument("--fs", choices=("disk", "tmpfs", "both"),
                        default="both", help="where the instances live")
    parser.add_argument("--mta", choices=("postern", "postfix", "both"),
                        default="both")
    parser.add_argument("--build", default="build",
                        help="Postern build directory (default build)")
    parser.add_argument("--json", default=str(REPO / "bench" /
                                              "results.jsonl"),
                        help="JSON lines output (default bench/results.jsonl)")
    parser.add_argument("--stall", type=float, default=30,
                        help="fail a run after this many seconds without "
                        "progress (default 30)")
    parser.add_argument("--no-install", action="store_true",
                        help="never apt-get install postfix")
    parser.add_argument("--keep", action="store_true",
                        help="keep instance directories (debugging)")
    args = parser.parse_args(argv)
    args.scenarios = (list(scenarios.SCENARIOS) if args.scenario == "all"
                      else args.scenario.split(","))
    bad = [s for s in args.scenarios if s not in scenarios.SCENARIOS]
    if bad:
        parser.error(f"unknown scenario {','.join(bad)}")
    args.fs_list = list(FS_KINDS) if args.fs == "both" else [args.fs]
    args.mtas = list(MTAS) if args.mta == "both" else [args.mta]
    build = pathlib.Path(args.build)
    args.build = build if build.is_absolute() else REPO / build
    if min(args.runs, args.messages, args.latency_messages, args.sessions,
           args.size) < 1:
        parser.error("counts and sizes must be positive")
    return args


def say(text):
    print(text, flush=True)


# Setup.
def install_postfix():
    """Install Debian's postfix package without starting the system
    instance (policy-rc.d denies service starts during the install)."""
    if os.geteuid() != 0:
        sys.exit("bench: smtp-source/smtp-sink/postfix are missing; run as "
                 "root, or: apt-get install postfix")
    say("bench: installing Debian's postfix package")
    policy = pathlib.Path("/usr/sbin/policy-rc.d")
    created = not policy.exists()
    if created:
        policy.write_text("#!/bin/sh\n# bench.py: no service starts\n"
                          "exit 101\n")
        policy.chmod(0o755)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        install = ["apt-get", "install", "-y", "postfix"]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
    finally:
        if created:
            policy.unlink()
    if os.path.isdir("/run/systemd/system"):
        subprocess.run(["systemctl", "disable", "--now", "postfix"],
                       check=False)


def check_tools(args):
    missing = [t for t in POSTFIX_TOOLS if not os.access(t, os.X_OK)]
    if missing:
        if args.no_install:
            sys.exit(f"bench: missing {', '.join(missing)} "
                     "(apt-get install postfix)")
        install_postfix()
    built = args.build / "sbin" / "postfix"
    if "postern" in args.mtas and not os.access(built, os.X_OK):
        sys.exit(f"bench: {built} is not built; run make first")
    if "postfix" in args.mtas and os.geteuid() != 0:
        say("bench: not running as root: Postfix's master refuses to start "
            "without root, so this run benchmarks Postern alone. Run "
            "`sudo make bench` for the side-by-side comparison.")
        args.mtas = [m for m in args.mtas if m != "postfix"]


class Workspace:
    """The directories runs live in: <base>/disk on /var/tmp, a tmpfs
    mounted at <base>/tmpfs (root) or a directory in /dev/shm, and the
    sink's dump directory in /dev/shm. Removed (and unmounted) by close()."""

    def __init__(self, fs_list):
        self.base = pathlib.Path(tempfile.mkdtemp(prefix="postern-bench.",
                                                  dir="/var/tmp"))
        self.mounted = None
        self.extra = []
        self.dirs = {}
        os.chmod(self.base, 0o755)
        if "disk" in fs_list:
            self.dirs["disk"] = self._mkdir(self.base / "disk")
        if "tmpfs" in fs_list:
            self.dirs["tmpfs"] = self._tmpfs()
        self.sink = pathlib.Path(tempfile.mkdtemp(
            prefix="postern-bench-sink.", dir="/dev/shm"))
        self.extra.append(self.sink)
        os.chmod(self.sink, 0o755)

    @staticmethod
    def _mkdir(path):
        path.mkdir(mode=0o755)
        return path

    def _tmpfs(self):
        if os.geteuid() == 0:
            path = self._mkdir(self.base / "tmpfs")
            proc = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                   "size=4g,mode=0755", "postern-bench",
                                   str(path)], capture_output=True,
                                  text=True)
            if proc.returncode == 0:
                self.mounted = path
                return path
            say(f"bench: cannot mount tmpfs ({proc.stderr.strip()}); "
                "using /dev/shm")
        path = pathlib.Path(tempfile.mkdtemp(prefix="postern-bench.",
                                             dir="/dev/shm"))
        os.chmod(path, 0o755)
        self.extra.append(path)
        return path

    def close(self, keep=False):
        if keep:
            kept = " ".join(str(p) for p in [self.base, *self.extra])
            say(f"bench: kept {kept}; remove with: "
                + (f"umount {self.mounted}; " if self.mounted else "")
                + f"rm -rf {kept}")
            return
        if self.mounted:
            subprocess.run(["umount", str(self.mounted)], check=False)
        for path in [*self.extra, self.base]:
            shutil.rmtree(path, ignore_errors=True)


# One run.
def run_once(kind, scenario, fs, index, args, space):
    """Start a fresh instance, drive the scenario, verify, measure.
    Returns a result dict; "ok" False with "error" when the run failed."""
    name = f"{scenario}-{fs}-{kind}-{index}"
    root = space.dirs[fs] / name
    result = {"run": index, "ok": False}
    with contextlib.ExitStack() as stack:
        # A disk run's directory goes when the workspace does: removing
        # thousands of files right away would slow the next run's file
        # creation (ext4 passes over recently deleted inodes when it
        # allocates one), charging one run's cleanup to the next run.
        if not args.keep and fs != "disk":
            stack.callback(shutil.rmtree, root, ignore_errors=True)
        inst = mta.Instance(kind, root, mta.free_port(), args.build)
        sink = None
        if scenario == "relay":
            sink = scenarios.Sink(space.sink / name,
                                  mta.free_port(avoid=(inst.port,)))
            stack.callback(shutil.rmtree, sink.dir, ignore_errors=True)
        expected = (args.latency_messages + scenarios.WARMUP
                    if scenario == "latency" else args.messages)
        params, files = scenarios.scenario_params(
            scenario, inst, sink.port if sink else 0, expected)
        stack.callback(inst.stop)
        try:
            inst.configure(params, files)
            if sink:
                stack.callback(sink.stop)
                sink.start()
            inst.start()
            result.update(drive(inst, sink, scenario, expected, args, root))
            result["ok"] = True
        except (RunFailed, RuntimeError, TimeoutError, OSError,
                subprocess.SubprocessError) as exc:
            result["error"] = str(exc)
            result["log_tail"] = inst.log_tail(20).splitlines()
        result["log_problems"] = scenarios.log_problems(inst)[:20]
    return result


def drive(inst, sink, scenario, expected, args, root):
    """The measured part of a run: load, wait for every arrival, wait for
    the queue to drain, verify exactly once."""
    master = inst.master_pid()
    counter = scenarios.arrival_counter(scenario, inst, sink, expected)
    sampler = measure.Sampler(master).start()
    source = None
    try:
        load = os.getloadavg()[0]
        busy_before = measure.machine_busy_seconds()
        cpu_before = measure.cpu_snapshot(master)
        started = time.monotonic()
        latencies = []
        if scenario == "latency":
            latencies = scenarios.send_latency(inst.port,
                                               args.latency_messages,
                                               args.size)
        else:
            source = scenarios.start_source(inst.port, scenario, args,
                                            root / "smtp-source.log")
        limit = max(120.0, expected / 10.0)
        try:
            measure.wait_for(lambda: counter() >= expected
                             or (source and source.poll() not in (None, 0)),
                             limit, interval=0.02, stall=args.stall,
                             progress=counter)
        except TimeoutError as exc:
            raise RunFailed(f"{counter()} of {expected} messages arrived: "
                            f"{exc}; queue {inst.queue_counts()}") from None
        elapsed = time.monotonic() - started
        if source:
            check_source(source, root / "smtp-source.log")
        try:
            measure.wait_for(inst.queue_is_empty, 60, interval=0.05)
        except TimeoutError:
            raise RunFailed(f"queue did not drain: {inst.queue_counts()}") \
                from None
        drained = time.monotonic() - started
        cpu_after = measure.cpu_snapshot(master)
        busy = measure.machine_busy_seconds() - busy_before
        sampler.sample()
    finally:
        sampler.stop()
        if source:
            scenarios.stop_process(source)
    scenarios.check_exactly_once(
        scenarios.arrived_numbers(scenario, inst, sink), expected)
    result = metrics(expected, elapsed, drained, cpu_before, cpu_after,
                     sampler, latencies)
    # How busy the machine was apart from this MTA: the load generators,
    # this script, and anything else running (which skews the numbers).
    result["load_1m_before"] = round(load, 2)
    result["machine_cpu_s"] = round(busy, 2)
    result["other_cpu_share"] = round(max(0.0, busy - result["cpu_s"]) /
                                      (drained * (os.cpu_count() or 1)), 3)
    return result


def check_source(source, log_path):
    try:
        code = source.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise RunFailed("smtp-source did not finish after the last "
                        "message arrived") from None
    if code != 0:
        raise RunFailed(f"smtp-source exited {code}: "
                        f"{log_path.read_text(errors='replace')[-500:]}")


def metrics(expected, elapsed, drained, before, after, sampler, latencies):
    cpu = after["total"] - before["total"]
    result = {
        "messages": expected,
        "elapsed_s": round(elapsed, 3),
        "drained_s": round(drained, 3),
        "msgs_per_s": round(expected / elapsed, 1),
        "cpu_s": round(cpu, 3),
        "cpu_user_s": round(after["user"] - before["user"], 2),
        "cpu_sys_s": round(after["sys"] - before["sys"], 2),
        "cpu_s_per_1000": round(cpu * 1000 / expected, 3),
        "peak_pss_mb": round(sampler.peak_pss_kb / 1024, 1),
        "peak_processes": sampler.peak_procs,
        "cpu_live_by_name": {k: round(v - before["by_name"].get(k, 0), 3)
                             for k, v in sorted(after["by_name"].items())},
    }
    if latencies:
        result.update({
            "latency_p50_ms": round(scenarios.percentile(latencies, 0.50)
                                    * 1000, 3),
            "latency_p99_ms": round(scenarios.percentile(latencies, 0.99)
                                    * 1000, 3),
            "latency_mean_ms": round(sum(latencies) / len(latencies) * 1000,
                                     3),
        })
    return result


# Summaries.
TABLE_METRICS = {
    "relay": ("msgs_per_s", "cpu_s_per_1000", "peak_pss_mb"),
    "discard": ("msgs_per_s", "cpu_s_per_1000", "peak_pss_mb"),
    "maildir": ("msgs_per_s", "cpu_s_per_1000", "peak_pss_mb"),
    "latency": ("latency_p50_ms", "latency_p99_ms", "cpu_s_per_1000",
                "peak_pss_mb"),
}
LABELS = {
    "msgs_per_s": "msgs/s end to end",
    "cpu_s_per_1000": "CPU s / 1000 msgs",
    "peak_pss_mb": "peak PSS MB",
    "latency_p50_ms": "p50 . -> 250 ms",
    "latency_p99_ms": "p99 . -> 250 ms",
}


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def summarize(runs):
    """Median of every numeric metric over the runs that passed."""
    good = [r for r in runs if r["ok"]]
    if not good:
        return {}
    keys = [k for k, v in good[0].items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            and k != "run"]
    return {k: round(median([r[k] for r in good]), 3) for k in keys}


def print_run(kind, scenario, fs, index, total, result):
    head = f"[{scenario}/{fs} {index}/{total}] {kind:7}"
    if not result["ok"]:
        say(f"{head} FAILED: {result['error']}")
        for line in result.get("log_tail", [])[-8:]:
            say(f"    log: {line}")
        return
    extra = ""
    if "latency_p50_ms" in result:
        extra = (f", p50 {result['latency_p50_ms']:.2f} ms, "
                 f"p99 {result['latency_p99_ms']:.2f} ms")
    say(f"{head} {result['msgs_per_s']:8.1f} msgs/s, "
        f"{result['cpu_s_per_1000']:.2f} CPU s/1k, "
        f"{result['peak_pss_mb']:.1f} MB{extra} "
        f"(all {result['messages']} arrived once)"
        + (f", {len(result['log_problems'])} log warnings"
           if result["log_problems"] else ""))


def table(summary, args):
    """The results as a fixed-width table (scenario, fs, metric, postern,
    postfix, ratio)."""
    lines = [f"{'scenario':9} {'fs':6} {'metric':19} {'postern':>10} "
             f"{'postfix':>10} {'ratio':>7}"]
    for (scenario, fs), per_mta in summary.items():
        for key in TABLE_METRICS[scenario]:
            cells = []
            for kind in MTAS:
                med = per_mta.get(kind, {}).get("median", {})
                if kind not in args.mtas:
                    cells.append("-")
                elif key in med:
                    cells.append(f"{med[key]:.2f}")
                else:
                    cells.append("FAILED")
            ratio = ratio_of(per_mta, key)
            ratio = "-" if ratio is None else f"{ratio:.2f}"
            lines.append(f"{scenario:9} {fs:6} {LABELS[key]:19} "
                         f"{cells[0]:>10} {cells[1]:>10} {ratio:>7}")
    return "\n".join(lines)


def ratio_of(per_mta, key):
    a = per_mta.get("postern", {}).get("median", {}).get(key)
    b = per_mta.get("postfix", {}).get("median", {}).get(key)
    if a is None or not b:
        return None
    return round(a / b, 2)


def load_note(summary):
    """One line on how busy the machine was, with a warning when other
    work competed for the CPUs."""
    runs = [r for per in summary.values() for e in per.values()
            for r in e["runs"] if r["ok"]]
    if not runs:
        return ""
    loads = [r["load_1m_before"] for r in runs]
    other = median([r["other_cpu_share"] for r in runs])
    note = (f"\nload average before the runs {min(loads):.1f}-"
            f"{max(loads):.1f}; CPU used outside the MTA under test "
            f"(load generators, this script, anything else): median "
            f"{other:.0%} of the machine")
    if max(loads) > (os.cpu_count() or 1) + 1:
        note += ("\nbench: WARNING: the machine was busy with other work "
                 "during some runs; the numbers are noisy")
    return note


def meta(args):
    def cmd(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  cwd=REPO, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {
        "kind": "meta",
        "date": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="seconds"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "postern_commit": cmd("git", "-c", "safe.directory=*", "rev-parse",
                              "--short", "HEAD"),
        "postern_dirty": bool(cmd("git", "-c", "safe.directory=*", "status",
                                  "--porcelain", "src")),
        "postfix_version": cmd("/usr/sbin/postconf", "-d", "-h",
                               "mail_version"),
        "build": str(args.build),
        "runs": args.runs, "messages": args.messages,
        "latency_messages": args.latency_messages,
        "sessions": args.sessions, "size": args.size,
        "load_average": os.getloadavg()[0],
    }


def write_json(path, header, summary, args):
    with open(path, "w") as f:
        f.write(json.dumps(header) + "\n")
        for (scenario, fs), per_mta in summary.items():
            for kind, data in per_mta.items():
                f.write(json.dumps({
                    "kind": "result", "scenario": scenario, "fs": fs,
                    "mta": kind, "messages": data["messages"],
                    "sessions": (1 if scenario == "latency"
                                 else args.sessions),
                    "size": args.size,
                    "ok_runs": sum(r["ok"] for r in data["runs"]),
                    "median": data["median"], "runs": data["runs"]}) + "\n")
            if len(per_mta) == 2:
                f.write(json.dumps({
                    "kind": "ratio", "scenario": scenario, "fs": fs,
                    "postern_over_postfix": {
                        k: ratio_of(per_mta, k)
                        for k in TABLE_METRICS[scenario]}}) + "\n")


# Main.
def interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run_all(args, space):
    summary = {}
    for scenario in args.scenarios:
        for fs in args.fs_list:
            per_mta = summary.setdefault((scenario, fs), {})
            for index in range(1, args.runs + 1):
                for kind in args.mtas:
                    result = run_once(kind, scenario, fs, index, args, space)
                    print_run(kind, scenario, fs, index, args.runs, result)
                    entry = per_mta.setdefault(kind, {"runs": []})
                    entry["runs"].append(result)
                    entry["messages"] = result.get("messages")
            for entry in per_mta.values():
                entry["median"] = summarize(entry["runs"])
    return summary


def main(argv):
    args = parse_args(argv)
    check_tools(args)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)
    header = meta(args)
    say(f"bench: {', '.join(args.mtas)}; scenarios {','.join(args.scenarios)}"
        f"; fs {','.join(args.fs_list)}; {args.runs} runs; "
        f"{args.messages} msgs x {args.size} B over {args.sessions} sessions"
        f"; latency {args.latency_messages} msgs; load average "
        f"{header['load_average']:.2f}")
    space = Workspace(args.fs_list)
    started = time.monotonic()
    try:
        summary = run_all(args, space)
    except KeyboardInterrupt:
        say("bench: interrupted; cleaning up")
        return 130
    finally:
        space.close(args.keep)
    header["duration_s"] = round(time.monotonic() - started, 1)
    say("")
    say(table(summary, args))
    say(load_note(summary))
    write_json(args.json, header, summary, args)
    say(f"\nbench: {header['duration_s']:.0f} s; JSON lines in {args.json}")
    failed = sum(not r["ok"] for per in summary.values()
                 for e in per.values() for r in e["runs"])
    if failed:
        say(f"bench: {failed} run(s) FAILED; see above and the JSON")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
