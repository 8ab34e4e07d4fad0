"""The fleet's etcd client (master/etcd.c) against a real 3-member etcd
cluster, driven by build/etcd-probe: put, range, delete, txn (create if
absent, compare-and-swap), leases (grant, keepalive, revoke, a lost
lease), watch (events, progress notifications, compaction, restart),
failover when a member dies or is partitioned, a store that went back,
and answers that are not etcd's (logged, counted, never a crash)."""

import base64
import socket
import threading
import time

from itestlib import LOOPBACK, TestFailure, eq, expect
from probes import Probe

# progress notifications every second instead of etcd's 10 minutes
FAST_PROGRESS = ["--experimental-watch-progress-notify-interval", "1s"]


def _probe(env, endpoints, tag=None):
    return Probe(env, "etcd", list(endpoints), "watch", tag)


def test_etcd_client_kv_txn_lease(env):
    c = env.etcd(3)
    p = _probe(env, c.endpoints)
    r = p.ok("put /t/a 1")
    expect(r["rev"] >= 2, "put revision %r" % r)
    g = p.ok("get /t/a")
    eq([(kv["key"], kv["value"], kv["create"], kv["mod"], kv["version"])
        for kv in g["kvs"]], [("/t/a", "1", r["rev"], r["rev"], 1)],
       "range of one key")
    p.ok("put /t/b 2")
    eq(sorted(kv["key"] for kv in p.ok("range /t/")["kvs"]),
       ["/t/a", "/t/b"], "range of a prefix")
    eq(c.get("/t/b"), b"2", "etcdctl-side view of the put")
    # txn: create if absent
    eq(p.ok("create /t/a x")["succeeded"], False, "create on an existing key")
    cr = p.ok("create /t/new x")
    eq(cr["succeeded"], True, "create on an absent key")
    # txn: compare-and-swap on mod_revision; the failure branch reads
    eq(p.ok("cas /t/new %d y" % cr["rev"])["succeeded"], True, "cas")
    bad = p.ok("cas /t/new %d z" % cr["rev"])
    eq((bad["succeeded"], bad["kvs"][0]["value"]), (False, "y"),
       "a stale cas fails and shows the current value")
    p.ok("del /t/b")
    eq(p.ok("get /t/b")["kvs"], [], "deleted")
    # leases
    gr = p.ok("grant 5")
    eq(gr["ttl"], 5, "granted TTL")
    lease = gr["id"]
    eq(p.ok("keepalive %d" % lease)["ttl"], 5, "keepalive renews")
    p.ok("put /t/l v %d" % lease)
    eq(c.get_kv("/t/l")["lease"], lease, "key on the lease")
    p.ok("revoke %d" % lease)
    eq(p.ok("keepalive %d" % lease)["ttl"], 0, "keepalive of a gone lease")
    eq(p.ok("get /t/l")["kvs"], [], "key gone with its lease")
    nf = p.cmd("revoke %d" % lease)
    eq((nf["ok"], nf["err"], nf["code"]), (False, "server", 5),
       "revoking a gone lease: etcd's NotFound")
    # a lease that is not kept alive expires on its own
    short = p.ok("grant 2")["id"]
    p.ok("put /t/s v %d" % short)
    time.sleep(3.2)
    eq(p.ok("get /t/s")["kvs"], [], "key of an expired lease")
    st = p.ok("status")
    eq((st["failed"], st["bad"], st["switches"]), (0, 0, 0),
       "no failure on a healthy cluster")
    p.finish()


def test_etcd_client_watch_progress_compaction(env):
    c = env.etcd(3, extra_args=FAST_PROGRESS)
    p = _probe(env, c.endpoints)
    first = p.ok("put /w/a 1")["rev"]
    p.ok("watch /w/ %d" % first)
    ev, _ = p.wait_event(lambda e: e["watch"] == "created", 5, "created")
    p.ok("put /w/b 2")
    p.ok("del /w/a")
    p.ok("put /x/other 3")          # outside the prefix: never seen
    got = []

    def two_events(e):
        if e["watch"] == "events":
            got.extend(e["events"])
        return len(got) >= 3
    p.wait_event(two_events, 5, "three events")
    eq([(e["type"], e["kv"]["key"]) for e in got],
       [("PUT", "/w/a"), ("PUT", "/w/b"), ("DELETE", "/w/a")],
       "events from the start revision, in order")
    prog, _ = p.wait_event(lambda e: e["watch"] == "progress", 5,
                           "a progress notification")
    expect(prog["rev"] >= got[-1]["kv"]["mod"] + 1 and
           prog["next"] == prog["rev"] + 1,
           "progress moves the restart revision: %r" % prog)
    # compaction: a watch from before it is refused with the revision
    now = p.ok("put /w/c 4")["rev"]
    p.ok("compact %d" % now)
    p.ok("watch /w/ %d" % first)
    comp, _ = p.wait_event(lambda e: e["watch"] == "compacted", 5,
                           "compacted")
    eq(comp["compact_rev"], now, "compact revision reported")
    # the way back: a watch from after it
    p.ok("watch /w/ %d" % (now + 1))
    p.wait_event(lambda e: e["watch"] == "created", 5, "created again")
    p.ok("put /w/d 5")
    ev, _ = p.wait_event(lambda e: e["watch"] == "events", 5, "event")
    eq(ev["events"][0]["kv"]["key"], "/w/d", "event after the resync")
    p.finish()


def test_etcd_client_failover_member_killed(env):
    c = env.etcd(3)
    p = _probe(env, c.endpoints)
    base = p.ok("put /f/a 1")["rev"]
    p.ok("watch /f/ %d" % (base + 1))
    p.wait_event(lambda e: e["watch"] == "created", 5, "created")
    c.kill_member(0)
    t0 = time.monotonic()
    # calls fail until the client has left member 0 (two failures), and
    # while the cluster elects a new leader if member 0 led it
    done = None
    for _ in range(20):
        a = p.cmd("put /f/b 2")
        if a["ok"]:
            done = a
            break
    expect(done is not None, "a put succeeded after the member died")
    st = p.ok("status")
    expect(st["index"] != 0 and st["switches"] >= 1, "switched: %r" % st)
    expect(time.monotonic() - t0 < 8, "switched and wrote in %.1fs" %
           (time.monotonic() - t0))
    ev, seen = p.wait_event(lambda e: e["watch"] == "events", 8,
                            "the watch's event after the switch")
    eq(ev["events"][0]["kv"]["key"], "/f/b", "no event lost or invented")
    expect(any(e["watch"] == "broken" for e in seen) or
           st["watch_restarts"] >= 1, "the watch restarted: %r" % seen)
    p.finish()


def test_etcd_client_partitioned_member(env):
    c = env.etcd(3)
    relays = [env.relay(m.client_port, "relay-m%d" % m.idx)
              for m in c.members]
    p = _probe(env, ["http://%s:%d" % (LOOPBACK, r.port) for r in relays])
    p.ok("put /p/a 1")
    relays[0].partition()
    t0 = time.monotonic()
    a1 = p.cmd("get /p/a")
    a2 = p.cmd("get /p/a")
    eq((a1["err"], a2["err"]), ("timeout", "timeout"),
       "two calls time out on the partitioned endpoint")
    a3 = p.ok("get /p/a")
    dt = time.monotonic() - t0
    expect(dt < 5.0, "served by the next endpoint after %.1fs" % dt)
    eq(p.ok("status")["index"], 1, "switched to the next endpoint")
    # the held call lands when the partition ends: fencing must cope
    relays[0].heal()
    eq(a3["kvs"][0]["value"], "1", "value")
    p.finish()


def test_etcd_client_store_reset(env):
    c = env.etcd(3)
    p = _probe(env, c.endpoints)
    for i in range(5):
        p.ok("put /r/k %d" % i)
    c.wipe_all()
    for _ in range(10):
        if p.cmd("get /r/k")["ok"]:
            break
        time.sleep(0.2)
    st = p.ok("status")
    expect(st["resets"] >= 1, "a wiped store is noticed: %r" % st)
    p.finish()


# ---- answers that are not etcd's -------------------------------------------

def _http(body, status="200 OK", raw=None):
    if raw is not None:
        return raw
    return (("HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
             "Content-Length: %d\r\nConnection: close\r\n\r\n" %
             (status, len(body))).encode() + body)


class FakeEtcd:
    """A server that answers each request with the next canned answer."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.served = 0
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while True:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            s.settimeout(2)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
                if self.served < len(self.answers):
                    s.sendall(self.answers[self.served])
                self.served += 1
            except OSError:
                pass
            s.close()

    def close(self):
        self.sock.close()


HDR = b'"header":{"cluster_id":"1","member_id":"2","revision":"7"}'
BIG = base64.b64encode(b"x" * (1024 * 1024 + 1))


def test_etcd_client_bad_answers(env):
    fake = FakeEtcd([
        _http(b'{"header": {"revision": '),                 # cut JSON
        _http(b'[1,2,3]'),                                  # not an object
        _http(b'{"header":{"revision":"seven"}}'),          # bad number
        _http(b'{' + HDR + b',"kvs":"nope"}'),              # wrong type
        _http(b'{' + HDR + b',"kvs":[{"key":"L2sx","value":"' + BIG +
              b'"},{"key":"!!","value":"eA=="},{"key":"L2sy",'
              b'"value":"eQ=="}]}'),                        # 2 bad kvs
        _http(b"", raw=b"NOT HTTP AT ALL\r\n\r\n"),        # garbage
        _http(b"", raw=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
              b"\r\n\r\nzz\r\n"),                          # bad chunk
        _http(b'{"error":"etcdserver: no leader","code":14}',
              "503 Service Unavailable"),
    ])
    try:
        # one endpoint: every answer reaches the client, none moves it
        p = _probe(env, ["http://%s:%d" % (LOOPBACK, fake.port)])
        errs = [p.cmd("get /k")["err"] for _ in range(4)]
        eq(errs, ["bad"] * 4, "unreadable answers fail the call")
        a = p.ok("get /k")
        eq([kv["key"] for kv in a["kvs"]], ["/k2"], "the good kv kept")
        eq(a["dropped"], 2, "the oversized and the malformed kv dropped")
        eq(p.cmd("get /k")["err"], "transport", "garbage HTTP")
        eq(p.cmd("get /k")["err"], "transport", "bad chunked framing")
        a = p.cmd("get /k")
        eq((a["err"], a["code"], a["status"]), ("server", 14, 503),
           "etcd's own error")
        st = p.ok("status")
        eq((st["bad"], st["dropped"], st["switches"]), (4, 2, 0),
           "counted, with one endpoint nowhere to go")
        p.finish()
    finally:
        fake.close()


def test_etcd_client_bad_answers_move_on(env):
    c = env.etcd(1)
    fake = FakeEtcd([_http(b'{"kvs":[]}'), _http(b'{"header":7}')])
    try:
        p = _probe(env, ["http://%s:%d" % (LOOPBACK, fake.port)] +
                   c.endpoints)
        eq([p.cmd("get /k")["err"] for _ in range(2)], ["bad", "bad"],
           "two answers without a usable header")
        eq(p.ok("put /k v")["ok"], True, "the next endpoint serves")
        st = p.ok("status")
        eq((st["index"], st["switches"], st["bad"]), (1, 1, 2),
           "moved on after two bad answers")
        p.finish()
    finally:
        fake.close()
