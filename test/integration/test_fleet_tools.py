"""The real components the fleet tests stand on: a 3-member etcd cluster
(tools/etcdlib.py) that survives the loss of a member, takes a killed or
wiped one back and compacts; and the fault-injecting relay
(tools/tcprelay.py), in-process and as a subprocess: cut, refuse, delay,
partition (held bytes land after heal), blackhole (they never do)."""

import os
import socket
import subprocess
import sys
import time

import itestlib
from itestlib import LOOPBACK, TestFailure, eq, expect

TOOLS = os.path.join(itestlib.REPO, "tools")


def test_etcd_cluster_survives_a_member(env):
    c = env.etcd(3)
    eq(len(c.endpoints), 3, "endpoints")
    rev = c.put("/t/a", "1")
    for i in range(3):
        eq(c.get("/t/a", i=i), b"1", "member %d reads the value" % i)
    lead = itestlib.wait_until(lambda: c.leader() is not None and
                               [c.leader()], 5, "a raft leader")[0]
    c.kill_member(lead)
    c.wait_healthy()
    expect(c.put("/t/b", "2") > rev, "a write after the leader died")
    c.start_member(lead)
    eq(c.get("/t/b", i=lead), b"2", "the restarted member caught up")
    # compaction: an old revision is gone
    now = c.compact()
    try:
        c.api("/v3/kv/range", {"key": "L3QvYQ==", "revision": str(rev)})
    except Exception as e:
        expect("compacted" in str(e), "range at a compacted revision: %s"
               % e)
    else:
        raise TestFailure("range at compacted revision %d answered" % rev)
    expect(now >= rev + 1, "compacted at %d" % now)
    # a member loses its data and comes back empty, then catches up
    other = (lead + 1) % 3
    c.wipe_member(other)
    eq(c.get("/t/b", i=other), b"2", "the wiped member caught up")
    # leases: a key on a revoked lease goes
    lease = c.lease_grant(5)
    c.put("/t/l", "x", lease=lease)
    eq(c.get_kv("/t/l")["lease"], lease, "key on the lease")
    c.lease_revoke(lease)
    eq(c.get("/t/l"), None, "key gone with its lease")


def test_etcd_cluster_wiped_starts_empty(env):
    c = env.etcd(3)
    c.put("/t/a", "1")
    c.wipe_all()
    eq(c.get("/t/a"), None, "nothing left after a wipe")
    expect(c.revision() <= 2, "a new cluster starts at revision 1")


def _echo_server(env):
    """A backend that echoes what it is sent (build/backend, /echo)."""
    return env.start_backend("v1")


def _get(port, path="/api", timeout=2.0):
    return itestlib.request(port, "GET", path, timeout=timeout)


def test_relay_faults_in_process(env):
    b = _echo_server(env)
    r = env.relay(b.port)
    eq(_get(r.port).body, itestlib.V1_BODY, "through the relay")
    # delay: each direction
    r.delay(150)
    t = time.monotonic()
    _get(r.port)
    expect(time.monotonic() - t >= 0.3, "delay 150 ms each way")
    r.heal()
    # cut: an open connection is reset, a new one works
    raw = env.raw(r.port, timeout=2.0)
    raw.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
    eq(raw.read_response().status, 200, "keep-alive connection")
    r.cut()
    data, closed = raw.read_until_close()
    expect(closed and data == b"", "the cut closed the connection")
    raw.close()
    eq(_get(r.port).status, 200, "a new connection after the cut")
    # refuse: connects are refused, then accepted again
    r.refuse(True)
    try:
        socket.create_connection((LOOPBACK, r.port), timeout=1).close()
    except ConnectionRefusedError:
        pass
    else:
        raise TestFailure("connect while refusing succeeded")
    r.refuse(False)
    eq(_get(r.port).status, 200, "accepting again")
    # partition: a request sent during it is answered after heal
    raw = env.raw(r.port, timeout=0.5)
    r.partition()
    raw.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        raw.read_response()
    except socket.timeout:
        pass
    else:
        raise TestFailure("an answer crossed the partition")
    r.heal()
    raw.sock.settimeout(2.0)
    eq(raw.read_response().body, itestlib.V1_BODY, "held request landed")
    raw.close()
    # blackhole: what is sent never arrives, even after heal
    before = b.stats()
    raw = env.raw(r.port, timeout=0.5)
    r.blackhole()
    raw.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    r.heal()
    try:
        raw.read_response()
    except socket.timeout:
        pass
    else:
        raise TestFailure("a blackholed request was answered")
    raw.close()
    eq(b.stats().get("requests"), before.get("requests"),
       "the backend never saw the blackholed request")
    st = r.counters()
    expect(st["dropped"] > 0 and st["cut"] >= 1, "counters %r" % st)


def test_relay_as_subprocess(env):
    b = _echo_server(env)
    port = env.ports.get()
    p = subprocess.Popen([sys.executable, os.path.join(TOOLS, "tcprelay.py"),
                          "--upstream", "%s:%d" % (LOOPBACK, b.port),
                          "--listen", str(port)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         preexec_fn=itestlib._die_with_parent)
    try:
        eq(p.stdout.readline().strip(), b"listening %d" % port, "banner")

        def cmd(line):
            p.stdin.write(line.encode() + b"\n")
            p.stdin.flush()
            return p.stdout.readline().strip()
        eq(_get(port).status, 200, "through the relay")
        eq(cmd("refuse"), b"ok", "refuse")
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            raise TestFailure("connect while refusing succeeded")
        except ConnectionRefusedError:
            pass
        eq(cmd("heal"), b"ok", "heal")
        eq(_get(port).status, 200, "after heal")
        expect(b'"accepted": 2' in cmd("stats"), "stats")
        p.stdin.close()
        eq(p.wait(5), 0, "exit status at end of input")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
