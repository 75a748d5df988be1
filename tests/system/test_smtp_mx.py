"""Outbound mail through MX records: a full instance whose resolver is a
dnsmasq on loopback (dns_resolver_conf), relaying to aiosmtpd.

example.test has two MX hosts: mx1 (preference 10) at 127.0.0.2, where
nothing listens, and mx2 (preference 20) at 127.0.0.1, where the sink
does. The smtp agent must try mx1, fall back to mx2, and log the relay as
mx2.example.test[127.0.0.1]:PORT. nomx.test has no MX but an A record (the
implicit MX), null.test has a null MX (RFC 7505), missing.test does not
exist, and self.test's only MX is us (inet_interfaces): a mail loop.
"""
import os
import shutil
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller

from instance import free_port, wait_until
from test_smtp import MASTER_CF, Recorder, deliveries, send, wait_status

DNSMASQ = "/usr/sbin/dnsmasq"


def free_udp_port():
    import socket
    while True:
        port = free_port()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            sock.close()


@pytest.fixture
def dns(tmp_path):
    if not os.path.exists(DNSMASQ):
        pytest.fail("dnsmasq is not installed (scripts/deps.sh installs "
                    "dnsmasq-base)")
    port = free_udp_port()
    proc = subprocess.Popen(
        [DNSMASQ, "-k", f"--port={port}", "--listen-address=127.0.0.1",
         "--bind-interfaces", "--no-resolv", "--no-hosts",
         "--conf-file=/dev/null", "--pid-file=", "--log-facility=-",
         "--local=/test/",
         "--mx-host=example.test,mx1.example.test,10",
         "--mx-host=example.test,mx2.example.test,20",
         "--host-record=mx1.example.test,127.0.0.2",
         "--host-record=mx2.example.test,127.0.0.1",
         "--host-record=nomx.test,127.0.0.1",
         "--mx-host=self.test,mx.self.test,10",
         "--host-record=mx.self.test,127.0.0.3",
         "--mx-host=null.test,.,0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver 127.0.0.1#{port}\noptions timeout:1 "
                    "attempts:2\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(conf, 0o644)
    time.sleep(0.3)
    yield conf
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def relay(instance, dns):
    handler = Recorder()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    (instance.etc / "transport").write_text(
        "".join(f"{d} smtp:{d}:{port}\n" for d in
                ("example.test", "nomx.test", "null.test", "missing.test",
                 "self.test")))
    instance.write_main(
        mydestination="", default_transport="smtp",
        transport_maps=f"texthash:{instance.etc}/transport",
        dns_resolver_conf=str(dns), smtp_helo_name="client.example.test",
        # We are 127.0.0.3 (no inet service listens); the sink is not us.
        inet_interfaces="127.0.0.3",
        minimal_backoff_time="1s", maximal_backoff_time="2s",
        queue_run_delay="1s", transport_retry_time="1s")
    instance.write_master(MASTER_CF)
    instance.start()
    wait_until(lambda: (instance.queue / "public" / "cleanup").exists())
    yield instance, handler, port
    ctl.stop()


def test_mx_fallback_to_second_host(relay):
    inst, handler, port = relay
    queue_id = send(inst, "s@sender.test", ["rcpt@example.test"])
    [line] = wait_status(inst, queue_id, status="sent")
    assert line["relay"] == f"mx2.example.test[127.0.0.1]:{port}", \
        inst.log()
    assert handler.envelopes[0][1] == ["rcpt@example.test"]


def test_implicit_mx(relay):
    inst, handler, port = relay
    queue_id = send(inst, "s@sender.test", ["rcpt@nomx.test"])
    [line] = wait_status(inst, queue_id, status="sent")
    assert line["relay"] == f"nomx.test[127.0.0.1]:{port}", inst.log()


def test_null_mx_and_unknown_domain_bounce(relay):
    inst, handler, _ = relay
    queue_id = send(inst, "s@sender.test", ["a@null.test", "b@missing.test"])
    lines = wait_status(inst, queue_id, count=2, status="bounced")
    by_rcpt = {m["to"]: m for m in lines}
    assert by_rcpt["a@null.test"]["dsn"] == "5.1.10", inst.log()
    assert "does not accept mail (nullMX)" in by_rcpt["a@null.test"][
        "reason"]
    assert "Host or domain name not found" in by_rcpt["b@missing.test"][
        "reason"], inst.log()
    assert handler.envelopes == []


def test_mx_pointing_at_us_is_a_loop(relay):
    inst, handler, _ = relay
    queue_id = send(inst, "s@sender.test", ["a@self.test"])
    [line] = wait_status(inst, queue_id, status="bounced")
    assert line["dsn"] == "5.4.6", inst.log()
    assert line["reason"] == "mail for self.test loops back to myself"
    assert handler.envelopes == []
