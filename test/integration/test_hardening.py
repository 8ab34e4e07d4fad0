"""Hostile clients against one worker (canaryd-envoy(7): LOCAL REPLIES, HTTP/1.1, STATISTICS).

Each case runs canaryd with --concurrency 1, so the hostile client and a
second, well-behaved client share the worker; the second one must keep
getting fast 200s meanwhile.  Cases: the per-worker connection cap
(listener metadata.filter_metadata.canaryd.max_connections_per_worker,
counted as listener.<address>.downstream_cx_overflow); running out of
file descriptors (accept pauses instead of spinning, admin answers,
queued connections are served once descriptors free up); a slow request
body (stream_idle_timeout and request_timeout: Envoy's 408s); a client
that never reads a large response (closed by the stream idle timeout,
memory bounded); an idle keep-alive connection (idle_timeout); an
upstream response with obs-fold (502).
"""

import json
import os
import resource
import signal
import socket
import threading
import time

import configs
from itestlib import LOOPBACK, V1_BODY, TestFailure, eq, expect, \
    wait_until

FAST = 0.5      # seconds: the worst answer the second client may see


def with_hcm(extra, template=configs.ALL_TO_V1):
    """template with extra HCM lines (YAML, 10-space indent)."""
    key = "          stat_prefix: ingress\n"
    expect(template.count(key) == 1, "template changed")
    return template.replace(key, key + extra)


def with_cap(n, template=configs.ALL_TO_V1):
    key = "    filter_chains:\n"
    expect(template.count(key) == 1, "template changed")
    return template.replace(key, "    metadata:\n"
                            "      filter_metadata:\n"
                            "        canaryd: { max_connections_per_worker: "
                            "%d }\n" % n + key)


def start(env, cfg):
    env.start_backend("v1")
    return env.start_canaryd(env.write_config(cfg), concurrency=1)


def the_worker(env):
    pids = env.proxy.workers()
    expect(len(pids) == 1, "one worker, got %r" % pids)
    return pids[0]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise TestFailure("no VmRSS for %d" % pid)


def cpu_s(pid):
    """User + system CPU seconds of pid so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listener_stat(env, name, stats=None):
    return env.stat("listener.%s_%d.%s" % (LOOPBACK, env.proxy_port, name),
                    stats)


def status_of(data):
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1]) if parts[0].startswith(b"HTTP/1.") else None
    except (IndexError, ValueError):
        return None


class Fast(threading.Thread):
    """The second client: GETs on its own keep-alive connection every
    50 ms until stopped (at most limit seconds); records the worst time
    and every failure."""

    def __init__(self, env, limit=15.0):
        super().__init__(daemon=True)
        self.env = env
        self.limit = limit
        self.stop_ev = threading.Event()
        self.worst = 0.0
        self.n = 0
        self.errors = []

    def run(self):
        c = self.env.client()
        t_end = time.monotonic() + self.limit
        try:
            while not self.stop_ev.is_set() and time.monotonic() < t_end:
                t0 = time.monotonic()
                try:
                    r = c.get("/fast%d" % self.n)
                    if (r.status, r.body) != (200, V1_BODY):
                        self.errors.append("%d %r" % (r.status, r.body))
                except Exception as e:  # recorded, checked by done()
                    self.errors.append(repr(e))
                self.worst = max(self.worst, time.monotonic() - t0)
                self.n += 1
                self.stop_ev.wait(0.05)
        finally:
            c.close()

    def done(self):
        self.stop_ev.set()
        self.join(self.limit + 5)
        expect(not self.errors, "second client failed: %s" %
               self.errors[:3])
        expect(self.n >= 3, "second client made only %d requests" % self.n)
        expect(self.worst < FAST, "second client waited %.2fs" % self.worst)


def connect(env):
    return socket.create_connection((LOOPBACK, env.proxy_port), timeout=2.0)


def get_on(s, path, timeout):
    """Send GET path on s; the status of the answer, None if none came
    within timeout (the response is read whole: it is V1_BODY)."""
    s.settimeout(timeout)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    got = b""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return None
        if not d:
            return None
        got += d
        if got.endswith(V1_BODY):
            return status_of(got)
    return None


def closed_within(s, timeout):
    """True if the peer closed s (EOF or reset) within timeout; the
    bytes read meanwhile."""
    s.settimeout(0.1)
    got = b""
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True, got
        if not d:
            return True, got
        got += d
    return False, got


# ------------------------------------------------------------ connection cap

def test_connection_cap_per_worker(env):
    start(env, with_cap(3))
    held = []
    try:
        for i in range(3):
            s = connect(env)
            held.append(s)
            eq(get_on(s, b"/held%d" % i, 2.0), 200, "held connection %d" % i)
        # over the cap: accepted and closed at once, no answer
        extra = connect(env)
        try:
            closed, got = closed_within(extra, 2.0)
            if not closed:
                try:
                    extra.sendall(b"GET /over HTTP/1.1\r\nHost: t\r\n\r\n")
                except OSError:
                    pass
                closed, got = closed_within(extra, 1.0)
        finally:
            extra.close()
        expect(closed and got == b"", "a 4th connection was served: "
               "closed=%s %r" % (closed, got[:100]))
        s = env.stats()
        eq(listener_stat(env, "downstream_cx_overflow", s), 1,
           "listener downstream_cx_overflow")
        expect("http.ingress.downstream_cx_overflow" not in s,
               "downstream_cx_overflow rendered under http.ingress")
        # /config_dump shows the listener's metadata as it was written
        dump = json.dumps(env.admin_json("/config_dump"))
        expect('"canaryd": {"max_connections_per_worker": 3}' in dump,
               "listener metadata missing from /config_dump")
        eq(get_on(held[0], b"/again", 2.0), 200, "held connection reused")
        held.pop().close()
        # room again: a new connection is served
        ok = None
        for _ in range(20):
            s2 = connect(env)
            try:
                ok = get_on(s2, b"/after", 2.0)
            except OSError:
                ok = None
            finally:
                s2.close()
            if ok == 200:
                break
            time.sleep(0.05)
        eq(ok, 200, "a connection once one closed")
    finally:
        for s in held:
            s.close()


def test_connection_cap_reloads(env):
    """A new cap takes effect on SIGHUP (a structural reload: a new
    generation of workers on the same socket)."""
    env.start_backend("v1")
    p = env.start_canaryd(env.write_config(configs.ALL_TO_V1), concurrency=1)
    first = wait_until(lambda: len(p.workers()) == 1 and p.workers(), 3,
                       "the worker")
    env.write_config(with_cap(1))
    os.kill(p.pid, signal.SIGHUP)
    wait_until(lambda: len(p.workers()) == 1 and
               not set(p.workers()) & set(first), 5,
               "a new generation of workers")
    a = connect(env)
    try:
        eq(get_on(a, b"/one", 2.0), 200, "the one connection allowed")
        b = connect(env)
        try:
            closed, got = closed_within(b, 2.0)
        finally:
            b.close()
        expect(closed and got == b"", "a 2nd connection was served: %r" %
               got[:100])
    finally:
        a.close()
    eq(listener_stat(env, "downstream_cx_overflow"), 1,
       "listener downstream_cx_overflow")


def test_connection_cap_config_is_strict(env):
    bad = {
        "negative": with_cap(-1),
        "too big": with_cap(1 << 30),
        "unknown key": configs.ALL_TO_V1.replace(
            "    filter_chains:\n", "    metadata:\n      filter_metadata:\n"
            "        canaryd: { max_conections_per_worker: 3 }\n"
            "    filter_chains:\n"),
    }
    for what, cfg in bad.items():
        st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                                env.write_config(cfg, "bad.yaml")])
        expect(st != 0, "%s: validate accepted it" % what)
        expect("max_con" in err and "canaryd" in err,
               "%s: error does not name the field: %r" % (what, err))
    # other namespaces are carried along, as Envoy would
    cfg = with_cap(0).replace(
        "        canaryd: { max_connections_per_worker: 0 }\n",
        "        canaryd: { max_connections_per_worker: 0 }\n"
        "        acme: { team: edge }\n")
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            env.write_config(cfg, "ok.yaml")])
    eq(st, 0, "validate with metadata: %s" % err)


# ------------------------------------------------------------------- EMFILE

def test_out_of_fds_pauses_accept(env):
    start(env, configs.ALL_TO_V1)
    w = the_worker(env)
    eq(env.get("/warm").status, 200, "warm-up (one pooled upstream)")
    nfds = len(os.listdir("/proc/%d/fd" % w))
    limit = nfds + 12
    # only the worker's limit: the master and its admin keep theirs
    resource.prlimit(w, resource.RLIMIT_NOFILE, (limit, limit))
    held, queued = [], []
    try:
        for i in range(40):
            s = connect(env)
            st = get_on(s, b"/h%d" % i, 1.5)
            if st is None:
                queued.append(s)
                break
            eq(st, 200, "held connection %d" % i)
            held.append(s)
        expect(queued, "all 40 connections were served: no fd limit hit")
        expect(len(held) >= 8, "only %d connections before the limit of "
               "%d fds (%d in use)" % (len(held), limit, nfds))
        for i in range(3):
            s = connect(env)
            s.sendall(b"GET /q%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
            queued.append(s)
        wait_until(lambda: "pausing" in env.proxy.output(), 3.0,
                   "the pause in the log")
        expect("Too many open files" in env.proxy.output(),
               "log does not say why: %s" % env.proxy.output()[-500:])
        # a worker woken for the same socket forever would burn ~2s of CPU
        c0 = cpu_s(w)
        time.sleep(2.0)
        used = cpu_s(w) - c0
        expect(used < 0.3, "worker used %.2fs of CPU in 2s while out of "
               "fds: spinning" % used)
        r = env.admin("/ready")
        eq(r.status, 200, "admin /ready while the worker is out of fds")
        eq(env.admin("/stats").status, 200, "admin /stats meanwhile")
        for s in held:
            s.close()
        held = []
        # the queued connections are accepted once the pause ends
        for i, s in enumerate(queued):
            s.settimeout(4.0)
            got = b""
            t_end = time.monotonic() + 4.0
            while not got.endswith(V1_BODY) and time.monotonic() < t_end:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            eq(status_of(got), 200, "queued connection %d: %r" %
               (i, got[:80]))
        eq(env.get("/new").status, 200, "a new connection")
        eq(the_worker(env), w, "the worker survived")
    finally:
        for s in held + queued:
            s.close()


# -------------------------------------------------------------- slow clients

def test_slow_body_gets_stream_timeout(env):
    start(env, with_hcm("          stream_idle_timeout: 1s\n"))
    before = env.stat("http.ingress.downstream_rq_idle_timeout")
    fast = Fast(env)
    fast.start()
    s = connect(env)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Length: 100\r\n\r\n")
        # one byte every 200 ms for 2 s: each byte is activity, so the
        # stream lives on (Envoy resets the idle timer on data)
        for i in range(10):
            s.sendall(b"x")
            t0 = time.monotonic()
            closed, got = closed_within(s, 0.2)
            expect(not closed and got == b"", "answered while the body "
                   "was still coming (byte %d): %r" % (i, got[:100]))
        # then it stalls: 408 "stream timeout" about 1 s after the last
        # byte, closed
        closed, got = closed_within(s, 3.0)
        dt = time.monotonic() - t0
    finally:
        s.close()
        fast.done()
    eq(status_of(got), 408, "status: %r" % got[:200])
    expect(got.endswith(b"\r\n\r\nstream timeout"),
           "body: %r" % got[-60:])
    expect(b"content-length: 14\r\n" in got.lower(), "length: %r" % got)
    expect(closed, "connection left open after the 408")
    expect(0.8 <= dt <= 2.0, "408 after %.2fs of silence, want ~1s" % dt)
    eq(env.stat("http.ingress.downstream_rq_idle_timeout") - before, 1,
       "downstream_rq_idle_timeout")


def test_slow_body_gets_request_timeout(env):
    start(env, with_hcm("          stream_idle_timeout: 1s\n"
                        "          request_timeout: 2s\n"))
    fast = Fast(env)
    fast.start()
    s = connect(env)
    t0 = time.monotonic()
    got, closed = b"", False
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Length: 100\r\n\r\n")
        # never stalls long enough for the idle timeout; the whole
        # request gets request_timeout
        for i in range(25):
            try:
                s.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            closed, d = closed_within(s, 0.2)
            got += d
            if closed or got:
                break
        if not closed:
            closed, d = closed_within(s, 1.0)
            got += d
        dt = time.monotonic() - t0
    finally:
        s.close()
        fast.done()
    eq(status_of(got), 408, "status: %r" % got[:200])
    expect(got.endswith(b"\r\n\r\nrequest timeout"), "body: %r" % got[-60:])
    expect(closed, "connection left open after the 408")
    expect(1.8 <= dt <= 3.0, "408 after %.2fs, want ~2s" % dt)
    s = env.stats()
    eq(env.stat("http.ingress.downstream_rq_timeout", s), 1,
       "downstream_rq_timeout")
    eq(env.stat("http.ingress.downstream_rq_idle_timeout", s), 0,
       "downstream_rq_idle_timeout")


def never_read(env, w, path, total):
    """GET path on a connection that never reads for 3 s; (closed, bytes
    got once it reads, worker RSS growth in KiB meanwhile)."""
    rss0 = rss_kb(w)
    s = connect(env)
    try:
        # a small receive window, and never a read: canaryd must stop
        # reading the backend instead of buffering all of it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(3.0)
        grew = rss_kb(w) - rss0
        closed, got = False, 0
        s.settimeout(2.0)
        t_end = time.monotonic() + 10.0
        while time.monotonic() < t_end:
            try:
                d = s.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not d:
                closed = True
                break
            got += len(d)
    finally:
        s.close()
    return closed, got, grew


def test_slow_reader_is_closed_with_bounded_memory(env):
    start(env, with_hcm("          stream_idle_timeout: 1s\n"))
    w = the_worker(env)
    eq(env.get("/warm").status, 200, "warm-up")
    fast = Fast(env, limit=20.0)
    fast.start()
    total = 50000000
    try:
        # a length-framed body, then a chunked one (re-framed by canaryd)
        results = [(p, never_read(env, w, p, total)) for p in
                   (b"/bytes/%d" % total, b"/chunked/%d" % total)]
    finally:
        fast.done()
    for path, (closed, got, grew) in results:
        expect(closed, "%s: the never-reading client was not closed" % path)
        expect(got < total, "%s: all %d bytes came through: no timeout" %
               (path, got))
        expect(grew < 8192, "%s: worker RSS grew %d KiB while the client "
               "did not read" % (path, grew))
    s = env.stats()
    eq(env.stat("http.ingress.downstream_rq_idle_timeout", s), 2,
       "downstream_rq_idle_timeout")
    eq(env.stat("http.ingress.downstream_cx_destroy_active_rq", s), 2,
       "downstream_cx_destroy_active_rq")


def test_idle_keepalive_connection_is_closed(env):
    start(env, with_hcm("          common_http_protocol_options:\n"
                        "            idle_timeout: 1s\n"))
    fast = Fast(env)
    fast.start()
    s = connect(env)
    try:
        eq(get_on(s, b"/once", 2.0), 200, "first request")
        t0 = time.monotonic()
        closed, got = closed_within(s, 3.0)
        dt = time.monotonic() - t0
    finally:
        s.close()
        # the second client is never idle for a second: it stays
        fast.done()
    expect(closed and got == b"", "idle connection: closed=%s %r" %
           (closed, got[:100]))
    expect(0.8 <= dt <= 2.0, "closed after %.2fs idle, want ~1s" % dt)
    eq(env.stat("http.ingress.downstream_cx_idle_timeout"), 1,
       "downstream_cx_idle_timeout")


# ------------------------------------------------------- upstream obs-fold

def test_upstream_obs_fold_is_502(env):
    """A response head with obs-fold, the first part empty too, is a
    protocol error: 502, and that connection is not reused."""
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind((LOOPBACK, env.v1_port))
    lsn.listen(8)
    lsn.settimeout(0.2)
    answers = [b"HTTP/1.1 200 OK\r\nX-A:\r\n folded\r\nContent-Length: 2"
               b"\r\n\r\nok",
               b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok",
               b"HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo\r\nContent-Length: 2"
               b"\r\n\r\nok"]
    stop = threading.Event()

    def serve():
        for _ in range(200):
            if stop.is_set():
                return
            try:
                c, _ = lsn.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(2.0)
                try:
                    c.recv(65536)
                    c.sendall(answers[0] if len(answers) == 1 else
                              answers.pop(0))
                    c.recv(65536)
                except OSError:
                    pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        env.start_canaryd(env.write_config(configs.ALL_TO_V1), concurrency=1)
        for i in range(3):
            r = env.get("/fold%d" % i)
            eq(r.status, 502, "folded response %d: %r" % (i, r.body[:80]))
    finally:
        stop.set()
        t.join(3)
        lsn.close()
    expect(env.stat("cluster.backend_v1.upstream_cx_protocol_error") >= 3,
           "upstream_cx_protocol_error")
