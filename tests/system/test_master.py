"""master, the server skeleton and the postfix command, end to end.

Each test starts a real instance from build/ with `postfix -c DIR start`,
talks to the echo test service over TCP and UNIX sockets, and checks the
processes, the replies and the log.
"""
import os
import signal
import socket
import threading
import time

import pytest

from instance import connect_tcp, connect_unix, free_port, wait_until


def greeting(sock):
    """Read the echo service's greeting: (pid, user)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(100)
        assert chunk, "connection closed before greeting"
        data += chunk
    words = data.decode().split()
    assert words[0] == "echo" and words[2] == "as", data
    return int(words[1]), words[3]


def echo(sock, text):
    sock.sendall(text.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(100)
        assert chunk, "connection closed"
        data += chunk
    return data.decode().rstrip("\n")


def echo_master_cf(port, maxproc=2, extra=""):
    return (f"127.0.0.1:{port} inet n - n - {maxproc} echo\n"
            f"echo unix - - n - {maxproc} echo\n" + extra)


def test_start_status_stop_leaves_nothing_behind(instance):
    instance.write_master(echo_master_cf(free_port()))
    proc = instance.start()
    assert "starting the Postfix mail system" in proc.stderr
    status = instance.postfix("status")
    assert status.returncode == 0
    pid = instance.master_pid()
    assert f"the Postfix mail system is running: PID: {pid}" in status.stderr
    # The host is myhostname's first label (mail.example.test), as
    # Postfix's postlogd writes it, not the machine's name.
    instance.wait_for_log(r"(?m)^\w{3} [ \d]\d \d\d:\d\d:\d\d mail "
                          r"postfix/master\[\d+\]: daemon started -- "
                          r"version \S+, configuration ")
    stop = instance.stop()
    assert stop.returncode == 0, stop.stderr
    assert "stopping the Postfix mail system" in stop.stderr
    status = instance.postfix("status")
    assert status.returncode == 1
    assert "the Postfix mail system is not running" in status.stderr
    assert instance.processes() == []
    assert "terminating on signal 15" in instance.log()


def test_inet_and_unix_services_answer(instance):
    port = free_port()
    instance.write_master(echo_master_cf(port))
    instance.start()
    with connect_tcp(port) as sock:
        pid, user = greeting(sock)
        assert echo(sock, "hello over tcp") == "hello over tcp"
    with connect_unix(instance.queue / "private" / "echo") as sock:
        greeting(sock)
        assert echo(sock, "hello over unix") == "hello over unix"
    assert pid in instance.processes("echo")


def test_killed_child_is_replaced(instance):
    port = free_port()
    instance.write_master(echo_master_cf(port))
    instance.start()
    with connect_tcp(port) as sock:
        first, _ = greeting(sock)
        os.kill(first, signal.SIGKILL)
        assert sock.recv(100) == b""
    instance.wait_for_log(rf"pid {first} killed by signal 9")
    with connect_tcp(port) as sock:
        second, _ = greeting(sock)
        assert echo(sock, "still here") == "still here"
    assert second != first
    assert "throttling" not in instance.log()


def test_reload_adds_and_removes_services(instance):
    port = free_port()
    instance.write_master(echo_master_cf(port))
    instance.start()
    with connect_tcp(port) as sock:
        greeting(sock)
    instance.write_master("echo unix - - n - 2 echo\n"
                          "echo2 unix - - n - 2 echo\n")
    assert instance.postfix("reload").returncode == 0
    instance.wait_for_log(r"reload -- version")
    wait_until(lambda: (instance.queue / "private" / "echo2").exists())
    with connect_unix(instance.queue / "private" / "echo2") as sock:
        greeting(sock)
        assert echo(sock, "new service") == "new service"
    with connect_unix(instance.queue / "private" / "echo") as sock:
        greeting(sock)

    def refused():
        try:
            connect_tcp(port, timeout=1).close()
            return False
        except ConnectionRefusedError:
            return True
    wait_until(refused)


def test_stale_pid_file_does_not_block_start(instance):
    instance.write_master(echo_master_cf(free_port()))
    (instance.queue / "pid").mkdir(parents=True)
    (instance.queue / "pid" / "master.pid").write_text("    999999\n")
    instance.start()
    assert instance.postfix("status").returncode == 0
    assert instance.master_pid() != 999999


def test_second_start_is_refused(instance):
    instance.write_master(echo_master_cf(free_port()))
    instance.start()
    again = instance.postfix("start")
    assert again.returncode == 1
    assert "the Postfix mail system is already running" in again.stderr


def test_commands_when_not_running(instance):
    for command in ("stop", "reload", "abort"):
        proc = instance.postfix(command)
        assert proc.returncode == 1, command
        assert "the Postfix mail system is not running" in proc.stderr


def test_unknown_command(instance):
    proc = instance.postfix("frobnicate")
    assert proc.returncode == 1
    assert "unknown command: 'frobnicate'" in proc.stderr


def test_200_connections_with_maxproc_20(instance):
    port = free_port()
    instance.write_master(echo_master_cf(port, maxproc=20))
    instance.start()
    served = []
    errors = []
    peak = [0]
    done = threading.Event()

    def client(n):
        try:
            with connect_tcp(port, timeout=30) as sock:
                greeting(sock)
                assert echo(sock, f"client {n}") == f"client {n}"
                sock.sendall(b"quit\n")
            served.append(n)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{n}: {exc!r}")

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], len(instance.processes("echo")))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    sampler.join()
    assert errors == []
    assert sorted(served) == list(range(200))
    assert 1 <= peak[0] <= 20


def proc_field(pid, name):
    """A number from /proc/PID/status, e.g. voluntary_ctxt_switches."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{name} not in /proc/{pid}/status")


def is_sleeping(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(") ", 1)[-1].startswith("S")


def one_client(port):
    """Connect, say quit, wait for the close: the PID that served it."""
    with connect_tcp(port) as sock:
        pid, _ = greeting(sock)
        sock.sendall(b"quit\n")
        assert sock.recv(100) == b""
    return pid


def test_a_connection_wakes_one_idle_process(instance):
    """Idle processes of a service wait on the listener they share; a new
    connection wakes one of them, not all. Eight idle echo processes then
    serving 60 clients one after another wake up fewer times in all than
    once per process per client, which waking all of them would take."""
    port = free_port()
    instance.write_master(echo_master_cf(port, maxproc=8))
    instance.start()
    socks = [connect_tcp(port) for _ in range(8)]
    pids = {greeting(sock)[0] for sock in socks}
    assert len(pids) == 8
    for sock in socks:
        sock.sendall(b"quit\n")
        assert sock.recv(100) == b""
        sock.close()
    wait_until(lambda: all(is_sleeping(pid) for pid in pids))
    before = {pid: proc_field(pid, "voluntary_ctxt_switches") for pid in pids}
    clients = 60
    for _ in range(clients):
        assert one_client(port) in pids
    wakeups = sum(proc_field(pid, "voluntary_ctxt_switches") - before[pid]
                  for pid in pids)
    assert wakeups < len(pids) * clients, wakeups


def test_idle_child_exits_after_max_idle(instance):
    """An idle process exits max_idle after its last client, not before."""
    port = free_port()
    instance.write_main(max_idle="1s")
    instance.write_master(echo_master_cf(port))
    instance.start()
    child = one_client(port)
    left = time.monotonic()
    wait_until(lambda: child not in instance.processes("echo"), timeout=20)
    assert time.monotonic() - left >= 0.9


def test_children_exit_when_master_dies(instance):
    """A child notices that master is gone (its status channel reports an
    error) while it waits for a client, and exits."""
    port = free_port()
    instance.write_master(echo_master_cf(port))
    instance.start()
    child = one_client(port)
    wait_until(lambda: is_sleeping(child))
    os.kill(instance.master_pid(), signal.SIGKILL)
    wait_until(lambda: child not in instance.processes("echo"))
    (instance.queue / "pid" / "master.pid").unlink()


def test_crash_loop_is_throttled(instance):
    port = free_port()
    # A bad -o value makes every process die at start-up.
    instance.write_master(echo_master_cf(port) +
                          "broken unix - - n - 5 echo -o max_use=nonsense\n")
    instance.start()
    for _ in range(5):
        try:
            with connect_unix(instance.queue / "private" / "broken",
                              timeout=1) as sock:
                sock.recv(100)
        except OSError:
            pass
    instance.wait_for_log(r"warning: \S+/echo: bad command startup -- "
                          r"throttling")
    time.sleep(1)
    assert instance.log().count("exit status 1") <= 2
    with connect_tcp(port) as sock:
        greeting(sock)


def test_bad_entries_cost_only_themselves(instance):
    port = free_port()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    try:
        instance.write_master(
            "bad line\n"
            "odd unknowntype - - n - 1 echo\n"
            "nosuch unix - - n - 1 no-such-daemon\n"
            f"127.0.0.1:{busy_port} inet n - n - 1 echo\n"
            + echo_master_cf(port))
        instance.start()
        log = instance.wait_for_log(r"no-such-daemon").string
        assert "master.cf, line 1: " in log
        assert "master.cf, line 2: " in log
        assert ("master.cf, line 3: service nosuch/unix: command "
                f"{instance.params['daemon_directory']}/no-such-daemon: "
                "No such file or directory; skipping this service") in log
        assert (f"master.cf, line 4: service 127.0.0.1:{busy_port}/inet: "
                in log)
        with connect_tcp(port) as sock:
            greeting(sock)
    finally:
        busy.close()


def test_log_lines_have_postfix_shape(instance):
    instance.write_master(echo_master_cf(free_port()))
    instance.start()
    instance.stop()
    for line in instance.log().splitlines():
        assert (line[:3].isalpha() and
                " mail " not in line[:16]), line
        words = line.split()
        assert words[4].startswith("postfix/") and words[4].endswith("]:"), \
            line


def test_children_run_as_mail_owner(instance):
    """As root, services with unpriv=- drop to mail_owner; as an ordinary
    user the whole instance runs as that user."""
    port = free_port()
    instance.write_master(echo_master_cf(port))
    instance.start()
    with connect_tcp(port) as sock:
        pid, name = greeting(sock)
    assert name == instance.mail_owner
    child_uid = os.stat(f"/proc/{pid}").st_uid
    assert child_uid == os.stat(instance.queue / "incoming").st_uid
    if os.geteuid() == 0:
        assert child_uid != 0
        assert os.stat(f"/proc/{instance.master_pid()}").st_uid == 0


def test_wakeup_triggers_unix_and_fifo_services(instance):
    instance.write_master("tick unix - - n 1 1 echo trigger\n"
                          "tock fifo - - n 1 1 echo trigger\n")
    instance.start()
    wait_until(lambda: instance.log().count("trigger: W") >= 4, timeout=15)
    assert (instance.queue / "private" / "tock").is_fifo()
    assert (instance.queue / "private" / "tick").is_socket()
    # A trigger sent by hand goes through the same path.
    with connect_unix(instance.queue / "private" / "tick") as sock:
        sock.sendall(b"X")
    instance.wait_for_log(r"trigger: X")
    assert len(instance.processes("echo")) <= 2


def test_multi_server_serves_clients_concurrently(instance):
    port = free_port()
    instance.write_master(f"127.0.0.1:{port} inet n - n - 1 echo multi\n")
    instance.start()
    socks = [connect_tcp(port) for _ in range(10)]
    try:
        pids = set()
        for sock in socks:
            line = sock.recv(100).decode()
            assert line.endswith("multi\n"), line
            pids.add(int(line.split()[1]))
        assert len(pids) == 1
        for n, sock in enumerate(socks):
            sock.sendall(f"ping {n}".encode())
        for n, sock in enumerate(socks):
            assert sock.recv(100) == f"ping {n}".encode()
    finally:
        for sock in socks:
            sock.close()


def test_duplicate_entry_uses_the_last(instance):
    instance.write_master("echo unix - - n - 1 echo -o ipc_timeout=1\n"
                          "echo unix - - n - 1 echo multi\n")
    instance.start()
    with connect_unix(instance.queue / "private" / "echo") as sock:
        assert sock.recv(100).decode().endswith("multi\n")
    assert "duplicate master.cf entry for service echo/unix; using the " \
        "entry at line 2" in instance.log()


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_chroot_service_runs_in_queue_directory(instance):
    port = free_port()
    instance.write_master(f"127.0.0.1:{port} inet n - y - 1 echo\n")
    instance.start()
    with connect_tcp(port) as sock:
        pid, _ = greeting(sock)
        assert os.readlink(f"/proc/{pid}/root") == str(instance.queue)


def test_standalone_mode_serves_stdin(instance):
    """-S: one client on stdin/stdout, no master (sendmail -bs needs it)."""
    import subprocess

    instance.queue.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MAIL_CONFIG=str(instance.etc))
    proc = subprocess.run([str(instance.params["daemon_directory"]) + "/echo",
                           "-S"], input="one\ntwo\nquit\nnot read\n",
                          capture_output=True, text=True, env=env,
                          timeout=30)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("echo ") and lines[1:] == ["one", "two"]
