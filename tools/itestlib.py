"""Helpers for canaryd's integration tests (python3 standard library only).

Each test gets an Env: it picks free loopback ports for the run, writes the
config, starts build/backend and build/canaryd, waits for them with bounded
deadlines, offers HTTP helpers (http.client, and raw sockets for malformed
input), reads the admin pages, and at the end stops every process it started,
by PID: SIGTERM, then SIGKILL after a bound, then canaryd's workers whose PIDs
it recorded from /proc.  Nothing here ever matches processes by name.

Invariant: every loop is bounded in count and in time; every socket has a
timeout.  Network traffic goes to 127.0.0.1 only.
"""

import ctypes
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

LOOPBACK = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED_CONFIG = os.path.join(REPO, "etc", "canary", "envoy-canary.yaml")

# Ports claimed by any run on this machine, one file per port holding the
# owner's PID, so that two runs started at the same time never share a port.
PORT_LOCK_DIR = "/tmp/canaryd-itest-ports"

HTTP_TIMEOUT = 10.0     # seconds, any single HTTP exchange
START_TIMEOUT = 10.0    # seconds, a process to become ready
STOP_TIMEOUT = 3.0      # seconds between SIGTERM and SIGKILL

V1_BODY = b'{"version":"v1","message":"This is stable version"}\n'
V2_BODY = b'{"version":"v2","message":"This is canary version"}\n'

UPSTREAM_RESET_PREFIX = \
    b"upstream connect error or disconnect/reset before headers."


class Skip(Exception):
    """Raised by a test that cannot run here (never to hide a failure)."""


class TestFailure(AssertionError):
    """A failed expectation; the message is the reason printed."""


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def pattern(n):
    """The bytes build/backend serves for /bytes/N and /chunked/N."""
    period = bytes(33 + i for i in range(89))
    return (period * (n // 89 + 1))[:n]


def wait_until(fn, timeout, what, interval=0.05):
    """Poll fn() until it returns a true value; fail after timeout s."""
    deadline = time.monotonic() + timeout
    last = err = None
    for _ in range(int(timeout / interval) + 2):
        try:
            last = fn()
        except (OSError, http.client.HTTPException) as e:
            last = None
            err = e
        else:
            err = None
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    raise TestFailure("timed out after %.1fs waiting for %s%s" %
        (timeout, what, " (last error: %s)" % err if err else ""))


def settle(fn, want, timeout=2.0, interval=0.05):
    """Poll fn() until it returns want, at most timeout s, and return the
    last value: a worker counts a request a moment after the client has
    its response, so a stat read right away may lag.  The caller asserts
    on the result, so a value that never arrives (or overshoots) fails."""
    deadline = time.monotonic() + timeout
    got = None
    for _ in range(int(timeout / interval) + 2):
        got = fn()
        if got == want or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return got


# ---------------------------------------------------------------- ports

def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_port(port):
    """Create the lock file for port; False if a live run holds it."""
    os.makedirs(PORT_LOCK_DIR, exist_ok=True)
    path = os.path.join(PORT_LOCK_DIR, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    owner = int(f.read().strip() or "0")
            except (OSError, ValueError):
                owner = 0
            if owner and _pid_alive(owner):
                return False
            # A run that died without cleaning up: take it over.
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            continue
        os.write(fd, b"%d\n" % os.getpid())
        os.close(fd)
        return True
    return False


class Ports:
    """Free loopback ports for one run: the kernel picks (bind to port 0),
    a lock file makes the pick unique across runs, a set within the run."""

    def __init__(self):
        self.taken = set()

    def get(self):
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((LOOPBACK, 0))
                port = s.getsockname()[1]
            if port in self.taken or not _claim_port(port):
                continue
            self.taken.add(port)
            return port
        raise TestFailure("could not find a free port in 200 tries")

    def release(self):
        for port in self.taken:
            path = os.path.join(PORT_LOCK_DIR, str(port))
            try:
                with open(path) as f:
                    if int(f.read().strip() or "0") != os.getpid():
                        continue
                os.unlink(path)
            except (OSError, ValueError):
                pass
        self.taken.clear()


# ---------------------------------------------------------------- processes

_libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test driver dies, so an
    interrupted run leaves nothing behind (canaryd's workers die with
    their master)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def children_of(pid):
    """PIDs whose parent is pid, from /proc/<pid>/task/*/children."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return sorted(set(kids))


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(
                "utf-8", "replace").strip()
    except OSError:
        return ""


def _proc_stat(pid):
    """The /proc/<pid>/stat fields after comm (state is [0]), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: parse after the last ')'.
    return stat[stat.rindex(")") + 2:].split()


def proc_ppid(pid):
    st = _proc_stat(pid)
    return int(st[1]) if st else None


def proc_identity(pid):
    """(pid, start time in clock ticks): unlike a bare PID, never names
    another process later."""
    st = _proc_stat(pid)
    # A zombie is dead already: only its parent's wait(2) is missing.
    return (pid, int(st[19])) if st and st[0] != "Z" else None


class Proc:
    """One process we started, its log file and its recorded children."""

    def __init__(self, name, argv, logpath, environ=None):
        self.name = name
        self.argv = argv
        self.logpath = logpath
        self.log = open(logpath, "wb")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, close_fds=True,
            preexec_fn=_die_with_parent,
            env=None if environ is None else dict(os.environ, **environ))
        self.pid = self.popen.pid
        self.known_children = set()     # proc_identity() of each

    def alive(self):
        return self.popen.poll() is None

    def record_children(self):
        """Remember the current children, so they can be reaped if the
        master dies without taking them along."""
        kids = children_of(self.pid)
        for k in kids:
            ident = proc_identity(k)
            if ident:
                self.known_children.add(ident)
        return kids

    def output(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.alive():
            self.record_children()
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(STOP_TIMEOUT)
        self._kill_orphans()
        self.log.close()

    def _kill_orphans(self):
        """Kill recorded children still around.  A PID is only the one we
        saw if its start time is unchanged: PIDs get reused."""
        left = [ident for ident in sorted(self.known_children)
                if proc_identity(ident[0]) == ident]
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for ident in left:
            while proc_identity(ident[0]) == ident and \
                    time.monotonic() < deadline:
                time.sleep(0.02)


class Backend(Proc):
    """build/backend: the version bodies, fault switches, /_stats."""

    def __init__(self, env, name, port, args, logpath):
        argv = [env.backend_bin, "--port", str(port), "--name", name,
            "--addr", LOOPBACK] + list(args)
        super().__init__("backend-%s" % name, argv, logpath)
        self.port = port
        self.version = name
        wait_until(lambda: self._ready(), START_TIMEOUT,
            "%s to listen on port %d" % (self.name, port))

    def _ready(self):
        if not self.alive():
            raise TestFailure("%s exited with %s:\n%s" % (self.name,
                self.popen.returncode, self.output()))
        return "listening on" in self.output()

    def ctl(self, **kv):
        """Flip switches at run time: ctl(status=503, delay_ms=100)."""
        q = "&".join("%s=%s" % (k, v) for k, v in kv.items())
        r = request(self.port, "POST", "/_ctl?" + q)
        eq(r.status, 200, "backend %s /_ctl?%s: %s" % (self.version,
            q, r.body))
        return r.json()

    def stats(self):
        r = request(self.port, "GET", "/_stats")
        eq(r.status, 200, "backend %s /_stats" % self.version)
        return r.json()


class Canaryd(Proc):
    def __init__(self, env, config, concurrency, args, logpath,
                 environ=None):
        argv = [env.canaryd_bin, "-f", config, "--concurrency",
            str(concurrency), "-l", env.log_level] + list(args)
        if "--state-dir" not in args:
            # its own rollout state, never the system's
            argv += ["--state-dir", env.logdir]
        super().__init__("canaryd", argv, logpath, environ)
        self.config = config
        self.concurrency = concurrency

    def workers(self):
        """Worker PIDs: children whose title says worker (setproctitle);
        all children if none does."""
        kids = self.record_children()
        named = [k for k in kids if "worker" in proc_cmdline(k)]
        return named if named else kids


# ---------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers      # [(name, value)] as received
        self.body = body

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has_header(self, name):
        return self.header(name) is not None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise TestFailure("body is not JSON (%s): %r" %
                (e, self.body[:300]))

    def __repr__(self):
        return "<%d %s %r>" % (self.status, self.reason, self.body[:80])


def _do(conn, method, path, body, headers):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return Resp(r.status, r.reason, r.getheaders(), data)


def request(port, method="GET", path="/", body=None, headers=None,
    timeout=HTTP_TIMEOUT):
    """One request on a new connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        return _do(conn, method, path, body, headers)
    finally:
        conn.close()


class Client:
    """A keep-alive client connection.  http.client silently reconnects
    after the server closed; connects counts that, so a test can tell
    reuse from reconnection."""

    def __init__(self, port, timeout=HTTP_TIMEOUT):
        self.conn = http.client.HTTPConnection(LOOPBACK, port,
            timeout=timeout)
        self.connects = 0
        orig = self.conn.connect

        def counting_connect():
            self.connects += 1
            orig()
        self.conn.connect = counting_connect

    def request(self, method="GET", path="/", body=None, headers=None):
        return _do(self.conn, method, path, body, headers)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def close(self):
        self.conn.close()


class Raw:
    """A raw TCP connection for input http.client will not send."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection((LOOPBACK, port),
            timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_until_close(self, limit=16 << 20):
        """Everything until EOF.  Returns (data, closed); closed is
        False when the timeout hit first, True on EOF or reset."""
        closed = False
        for _ in range(100000):
            if len(self.buf) >= limit:
                break
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not d:
                closed = True
                break
            self.buf += d
        data, self.buf = self.buf, b""
        return data, closed

    def read_response(self, head=False):
        """One response (head + content-length or chunked body; no body
        when head, the answer to a HEAD).  Returns a Resp; raises
        TestFailure on EOF, socket.timeout on a timeout."""
        lines = self._read_to(b"\r\n\r\n").split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        expect(len(parts) >= 2 and parts[0].startswith(b"HTTP/"),
            "bad status line %r" % lines[0])
        status = int(parts[1])
        hdrs = []
        for ln in lines[1:]:
            if not ln:
                continue
            k, _, v = ln.partition(b":")
            hdrs.append((k.decode("latin-1"),
                v.strip().decode("latin-1")))
        r = Resp(status, parts[2].decode("latin-1") if len(parts) > 2
            else "", hdrs, b"")
        te = (r.header("transfer-encoding") or "").lower()
        if head or status in (204, 304) or status < 200:
            pass
        elif "chunked" in te:
            body = b""
            for _ in range(1 << 20):
                size = int(self._read_to(b"\r\n").split(b";")[0]
                    .strip(), 16)
                if size == 0:
                    self._read_to(b"\r\n")
                    break
                body += self._read_n(size)
                self._read_n(2)
            r.body = body
        elif r.header("content-length") is not None:
            r.body = self._read_n(int(r.header("content-length")))
        return r

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise TestFailure("connection closed; got so far %r" %
                self.buf[:200])
        self.buf += d

    def _read_to(self, sep):
        for _ in range(100000):
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            self._fill()
        raise TestFailure("no %r in response" % sep)

    def _read_n(self, n):
        for _ in range(100000):
            if len(self.buf) >= n:
                out, self.buf = self.buf[:n], self.buf[n:]
                return out
            self._fill()
        raise TestFailure("short body")

    def close(self):
        self.sock.close()


def parse_stats(text):
    """/stats text -> {name: int}; histogram lines are left out."""
    out = {}
    for line in text.splitlines():
        name, sep, val = line.partition(": ")
        if sep and re.fullmatch(r"[0-9]+", val):
            out[name] = int(val)
    return out


# ---------------------------------------------------------------- Env

class Env:
    """Everything one test starts and owns."""

    def __init__(self, build, logdir, log_level="info", ports=None):
        """ports: the run's Ports, so no two tests of a run share a port
        (a server's TIME_WAIT leftovers never meet the next test); by
        default the Env has its own and releases them in stop()."""
        self.build = build
        self.canaryd_bin = os.path.join(build, "canaryd")
        self.backend_bin = os.path.join(build, "backend")
        self.logdir = logdir
        self.log_level = log_level
        self.own_ports = ports is None
        self.ports = Ports() if ports is None else ports
        self.procs = []
        self.files = []
        self._named = {}
        self.proxy = None
        os.makedirs(logdir, exist_ok=True)

    # -- ports (the template placeholders) --
    def port(self, name):
        """A free port, the same one each time for the same name."""
        if name not in self._named:
            self._named[name] = self.ports.get()
        return self._named[name]

    @property
    def v1_port(self):
        return self.port("v1_port")

    @property
    def v2_port(self):
        return self.port("v2_port")

    @property
    def proxy_port(self):
        return self.port("proxy_port")

    @property
    def admin_port(self):
        return self.port("admin_port")

    # -- configs --
    def write_config(self, template, name="canaryd.yaml", **extra):
        """Write a YAML template with {v1_port} {v2_port} {proxy_port}
        {admin_port} (and any extra keys) filled in; returns its path.
        Literal braces in YAML flow style are fine: only those names
        are replaced."""
        values = {"v1_port": None, "v2_port": None, "proxy_port": None,
            "admin_port": None}
        values.update(extra)

        def sub(m):
            key = m.group(1)
            if key not in values:
                return m.group(0)
            if values[key] is None:
                values[key] = self.port(key)
            return str(values[key])
        text = re.sub(r"\{([a-z0-9_]+)\}", sub, template)
        path = os.path.join(self.logdir, name)
        # whole or not at all: a reload signalled for the previous
        # version may read the file while this one is written
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        self.files.append(path)
        return path

    def seed_config(self, name="envoy-canary.yaml"):
        """The user's config with this run's ports, listeners moved from
        0.0.0.0 to 127.0.0.1 (tests talk to loopback only)."""
        return self.file_config(SEED_CONFIG, name)

    def file_config(self, src, name="canaryd.yaml"):
        """A config file written for ports 8081 and 8082 (backends v1
        and v2), 10000 (the listener) and 9901 (admin), once each, with
        this run's ports, listeners moved to 127.0.0.1."""
        with open(src) as f:
            text = f.read()
        for old, key in (("8081", "v1_port"), ("8082", "v2_port"),
            ("10000", "proxy_port"), ("9901", "admin_port")):
            pat = r"port_value: %s\b" % old
            n = len(re.findall(pat, text))
            eq(n, 1, "occurrences of 'port_value: %s' in %s"
                % (old, os.path.basename(src)))
            text = re.sub(pat, "port_value: {%s}" % key, text)
        text = text.replace("address: 0.0.0.0", "address: " + LOOPBACK)
        return self.write_config(text, name)

    # -- processes --
    def start_backend(self, name="v1", port=None, args=()):
        port = port if port is not None else self.port(name + "_port")
        b = Backend(self, name, port, args,
            os.path.join(self.logdir, "backend-%s.log" % name))
        self.procs.append(b)
        return b

    def start_backends(self, args=()):
        return self.start_backend("v1", args=args), \
            self.start_backend("v2", args=args)

    def start_canaryd(self, config, concurrency=2, args=(), wait=True,
                      environ=None):
        """environ: variables added to canaryd's environment."""
        if not os.access(self.canaryd_bin, os.X_OK):
            raise TestFailure("%s missing: run make" % self.canaryd_bin)
        p = Canaryd(self, config, concurrency, args,
            os.path.join(self.logdir, "canaryd.log"), environ)
        self.procs.append(p)
        self.proxy = p
        if wait:
            self.wait_ready(p)
        return p

    def wait_ready(self, p, timeout=START_TIMEOUT):
        """Until admin /ready says LIVE; if the admin never answers but
        the proxy port accepts, go on (tests needing admin will fail on
        their own, with the reason)."""
        start = time.monotonic()
        deadline = start + timeout
        accepted = admin_seen = False
        for _ in range(int(timeout / 0.05) + 2):
            if not p.alive():
                raise TestFailure("canaryd exited with status "
                    "%s during start-up" % p.popen.returncode)
            try:
                r = request(self.admin_port, "GET", "/ready",
                    timeout=1.0)
                admin_seen = True
                if r.status == 200:
                    p.record_children()
                    return
            except (OSError, http.client.HTTPException):
                pass
            # the proxy port only when no admin answers after a second:
            # a probe there is a connection the test's counters see
            if not admin_seen and time.monotonic() - start > 1.0:
                try:
                    socket.create_connection((LOOPBACK,
                        self.proxy_port), timeout=0.5).close()
                    accepted = True
                except OSError:
                    accepted = False
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if accepted:
            p.record_children()
            return
        raise TestFailure("canaryd not ready within %.0fs (admin "
            "/ready not 200, proxy port %d not accepting)" %
            (timeout, self.proxy_port))

    def run(self, argv, timeout=20):
        """Run a command to completion; returns (status, stdout, stderr)."""
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=timeout,
            preexec_fn=_die_with_parent)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")

    def stop(self):
        """Stop everything, newest first (canaryd before backends)."""
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the rest
                print("    warning: stopping %s (pid %d): %s" %
                      (p.name, p.pid, e))
        if self.own_ports:
            self.ports.release()

    def logs(self):
        return [(p.name, p.logpath, p.output()) for p in self.procs]

    # -- HTTP to the proxy and the admin --
    def get(self, path, headers=None, port=None):
        return request(port or self.proxy_port, "GET", path,
            headers=headers)

    def request(self, method, path, body=None, headers=None, port=None,
        timeout=HTTP_TIMEOUT):
        return request(port or self.proxy_port, method, path, body,
            headers, timeout)

    def client(self, port=None):
        return Client(port or self.proxy_port)

    def raw(self, port=None, timeout=5.0):
        return Raw(port or self.proxy_port, timeout)

    def admin(self, path, method="GET"):
        return request(self.admin_port, method, path)

    def admin_json(self, path):
        r = self.admin(path)
        eq(r.status, 200, "admin %s status" % path)
        return r.json()

    def stats(self):
        r = self.admin("/stats")
        eq(r.status, 200, "admin /stats status")
        return parse_stats(r.text)

    def stat(self, name, stats=None):
        s = stats if stats is not None else self.stats()
        if name not in s:
            raise TestFailure("stat %s not in /stats" % name)
        return s[name]

    def versions(self, n, path="/api", client=None):
        """n sequential GETs; returns {"v1": k, "v2": m, other: ...}
        counted by response body."""
        count = {}
        for _ in range(n):
            r = client.get(path) if client else self.get(path)
            key = {V1_BODY: "v1", V2_BODY: "v2"}.get(r.body,
                "%d %r" % (r.status, r.body[:60]))
            count[key] = count.get(key, 0) + 1
        return count

    # -- fleet mode: a real etcd cluster, fault-injecting TCP relays --
    def etcd(self, members=3, **kw):
        """Start a real etcd cluster of members on this run's ports
        (tools/etcdlib.py); healthy when it returns.  It is one of the
        Env's processes: stop() ends its members and removes its data, a
        failure prints what was done to which member and each log."""
        import etcdlib
        c = etcdlib.EtcdCluster(members, ports=self.ports,
                                logdir=self.logdir,
                                on_proc=self.procs.append, **kw)
        self.procs.append(c)
        return c.start()

    def relay(self, upstream_port, name="relay"):
        """A fault-injecting relay from a port of this run to
        127.0.0.1:upstream_port (tools/tcprelay.py), running in this
        process; stop() ends it."""
        import tcprelay
        r = tcprelay.Relay((LOOPBACK, upstream_port), self.ports.get(),
                           name=name,
                           logpath=os.path.join(self.logdir, name + ".log"))
        self.procs.append(r)
        return r.start()
