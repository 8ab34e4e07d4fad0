#!/usr/bin/env python3
"""A real etcd cluster on loopback for tests and the demo (python3 stdlib).

    c = EtcdCluster(3, logdir="/tmp/x").start()   # healthy when it returns
    c.endpoints                  # ["http://127.0.0.1:P1", ...]
    c.put("/k", "v"); c.get("/k"); c.revision(); c.compact()
    c.kill_member(0); c.start_member(0); c.wipe_member(1); c.wipe_all()
    c.stop()

Each member is Debian's etcd (3.4) started with --name --data-dir
--listen-client-urls --advertise-client-urls --listen-peer-urls
--initial-advertise-peer-urls --initial-cluster --initial-cluster-state
--initial-cluster-token, on free loopback ports (tools/itestlib.Ports),
data under one temporary directory that stop() removes.  Helpers speak the
v3 JSON gateway (POST /v3/..., keys and values base64) over http.client.

Processes are itestlib.Proc: started with PR_SET_PDEATHSIG, stopped by
PID (SIGTERM, then SIGKILL after a bound), never looked up by name.  With
an itestlib.Env, env.etcd() makes the cluster one of the Env's processes:
its log (etcd-events.log) says what was done to which member and when,
and the Env stops it with everything else.

By hand: `python3 tools/etcdlib.py [--members 3]` starts a cluster, prints
its endpoints and serves until Ctrl-C or SIGTERM.

Invariant: every wait is bounded; every process started is recorded and
stopped by stop(), also after an error.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itestlib  # noqa: E402

LOOPBACK = itestlib.LOOPBACK
ETCD = "etcd"
HEALTH_TIMEOUT = 20.0   # seconds for members to report healthy
API_TIMEOUT = 5.0       # seconds, one gateway request


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def unb64(s):
    return base64.b64decode(s or "")


def prefix_end(key):
    """The range_end that covers every key starting with key."""
    k = bytearray(key.encode() if isinstance(key, str) else key)
    while k:
        if k[-1] < 0xff:
            k[-1] += 1
            return bytes(k)
        k.pop()
    return b"\0"


class Member:
    def __init__(self, idx, name, client_port, peer_port, data_dir):
        self.idx = idx
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.proc = None
        self.starts = 0

    @property
    def client_url(self):
        return "http://%s:%d" % (LOOPBACK, self.client_port)

    @property
    def peer_url(self):
        return "http://%s:%d" % (LOOPBACK, self.peer_port)

    def alive(self):
        return self.proc is not None and self.proc.alive()


class EtcdError(Exception):
    pass


class EtcdCluster:
    """n members; see the module comment.  ports: an itestlib.Ports to
    take ports from (default: its own, released by stop()); on_proc(p):
    called with each itestlib.Proc started, so an Env can print its log."""

    def __init__(self, n=3, ports=None, logdir=None, on_proc=None,
                 log_level="warn", extra_args=()):
        self.name = "etcd"
        self.pid = 0
        self.own_ports = ports is None
        self.ports = ports if ports is not None else itestlib.Ports()
        self.tmp = tempfile.mkdtemp(prefix="canaryd-etcd-")
        self.logdir = logdir or self.tmp
        os.makedirs(self.logdir, exist_ok=True)
        self.logpath = os.path.join(self.logdir, "etcd-events.log")
        self._events = open(self.logpath, "w")
        self.on_proc = on_proc
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.token = "canaryd-%d-%d" % (os.getpid(), int(time.time()))
        self.generation = 0
        self.procs = []
        self.members = []
        for i in range(n):
            self.members.append(Member(i, "m%d" % i, self.ports.get(),
                self.ports.get(), os.path.join(self.tmp, "m%d" % i)))
        self.t0 = time.monotonic()

    # ---- bookkeeping --------------------------------------------------

    def event(self, fmt, *args):
        line = "%8.3f %s\n" % (time.monotonic() - self.t0, fmt % args)
        self._events.write(line)
        self._events.flush()

    def output(self):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""

    @property
    def endpoints(self):
        return [m.client_url for m in self.members]

    def member(self, i):
        return self.members[i]

    def alive(self):
        return any(m.alive() for m in self.members)

    # ---- processes ----------------------------------------------------

    def _initial_cluster(self):
        return ",".join("%s=%s" % (m.name, m.peer_url)
                        for m in self.members)

    def _spawn(self, m, state):
        m.starts += 1
        argv = [ETCD, "--name", m.name, "--data-dir", m.data_dir,
                "--listen-client-urls", m.client_url,
                "--advertise-client-urls", m.client_url,
                "--listen-peer-urls", m.peer_url,
                "--initial-advertise-peer-urls", m.peer_url,
                "--initial-cluster", self._initial_cluster(),
                "--initial-cluster-state", state,
                "--initial-cluster-token", self.token,
                "--logger", "zap", "--log-outputs", "stderr",
                "--log-level", self.log_level] + self.extra_args
        log = os.path.join(self.logdir, "etcd-%s%s.log" % (m.name,
            "" if m.starts == 1 else "-%d" % m.starts))
        p = itestlib.Proc("etcd-%s" % m.name, argv, log)
        m.proc = p
        self.procs.append(p)
        if self.on_proc:
            self.on_proc(p)
        self.event("start %s (pid %d, client %d, peer %d, %s)", m.name,
                   p.pid, m.client_port, m.peer_port, state)

    def start(self, timeout=HEALTH_TIMEOUT):
        """Start every member (a new cluster); return once all are
        healthy."""
        try:
            for m in self.members:
                os.makedirs(os.path.dirname(m.data_dir), exist_ok=True)
                self._spawn(m, "new")
            self.wait_healthy(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_member(self, i, timeout=HEALTH_TIMEOUT, wait=True):
        """Start member i again on its data (after stop or kill)."""
        m = self.members[i]
        if m.alive():
            return
        self._spawn(m, "existing" if os.path.isdir(m.data_dir) else "new")
        if wait:
            self.wait_healthy([i], timeout)

    def stop_member(self, i):
        """SIGTERM member i and wait for it (SIGKILL after a bound)."""
        m = self.members[i]
        if m.proc is not None and m.proc.alive():
            self.event("stop %s (pid %d)", m.name, m.proc.pid)
            m.proc.stop()

    def kill_member(self, i):
        """SIGKILL member i (no clean shutdown) and reap it."""
        m = self.members[i]
        if m.proc is not None and m.proc.alive():
            self.event("kill -9 %s (pid %d)", m.name, m.proc.pid)
            m.proc.popen.send_signal(signal.SIGKILL)
            m.proc.popen.wait(itestlib.STOP_TIMEOUT)

    def pause_member(self, i):
        """SIGSTOP member i: alive, answering nothing."""
        m = self.members[i]
        self.event("SIGSTOP %s", m.name)
        m.proc.popen.send_signal(signal.SIGSTOP)

    def resume_member(self, i):
        m = self.members[i]
        self.event("SIGCONT %s", m.name)
        m.proc.popen.send_signal(signal.SIGCONT)

    def restart_member(self, i, timeout=HEALTH_TIMEOUT):
        self.stop_member(i)
        self.start_member(i, timeout)

    def stop_all(self):
        for i in range(len(self.members)):
            self.stop_member(i)

    def start_all(self, timeout=HEALTH_TIMEOUT):
        """Start every stopped member on its data; wait for health."""
        for m in self.members:
            if not m.alive():
                self._spawn(m, "existing" if os.path.isdir(m.data_dir)
                            else "new")
        self.wait_healthy(timeout=timeout)

    def wipe_member(self, i, timeout=HEALTH_TIMEOUT):
        """Member i loses its data: stop it, remove it from the cluster,
        delete its data, add it back as a new member and start it empty
        (it catches up from the others)."""
        m = self.members[i]
        self.stop_member(i)
        live = [k for k in range(len(self.members)) if k != i and
                self.members[k].alive()]
        if not live:
            raise EtcdError("wipe_member: no live member to ask")
        mid = self.member_id(i, via=live[0])
        if mid is not None:
            self.api("/v3/cluster/member/remove", {"ID": mid}, live[0])
        shutil.rmtree(m.data_dir, ignore_errors=True)
        # etcd refuses to add a member while it counts the cluster
        # unhealthy (a member (re)started less than 5 s ago): retry

        def add():
            try:
                return self.api("/v3/cluster/member/add",
                                {"peerURLs": [m.peer_url]}, live[0])
            except EtcdError as e:
                if "unhealthy cluster" in str(e):
                    return None
                raise
        itestlib.wait_until(add, timeout, "etcd to accept %s back" %
                            m.name, 0.25)
        self.event("wiped %s (was id %s)", m.name, mid)
        self._spawn(m, "existing")
        self.wait_healthy([i], timeout)

    def wipe_all(self, timeout=HEALTH_TIMEOUT):
        """Every member loses its data: stop all, delete, start a new,
        empty cluster (new token) on the same ports."""
        self.stop_all()
        for m in self.members:
            shutil.rmtree(m.data_dir, ignore_errors=True)
        self.generation += 1
        self.token = "%s-w%d" % (self.token.split("-w")[0], self.generation)
        self.event("wiped every member; new cluster token %s", self.token)
        for m in self.members:
            self._spawn(m, "new")
        self.wait_healthy(timeout=timeout)

    def stop(self):
        """Stop every process ever started, remove the data."""
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:      # keep stopping the rest
                self.event("stopping %s (pid %d): %s", p.name, p.pid, e)
        self.procs = []
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.own_ports:
            self.ports.release()
        if not self._events.closed:
            self.event("stopped")
            self._events.close()

    # ---- health -------------------------------------------------------

    def healthy(self, i):
        """Member i answers /health with "true" (it has a leader)."""
        m = self.members[i]
        if not m.alive():
            return False
        try:
            conn = http.client.HTTPConnection(LOOPBACK, m.client_port,
                                              timeout=1.0)
            try:
                conn.request("GET", "/health")
                r = conn.getresponse()
                body = r.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            return False
        try:
            return r.status == 200 and \
                json.loads(body).get("health") == "true"
        except ValueError:
            return False

    def wait_healthy(self, members=None, timeout=HEALTH_TIMEOUT):
        idx = members if members is not None else \
            [i for i, m in enumerate(self.members) if m.alive()]

        def check():
            for i in idx:
                if not self.members[i].alive():
                    raise itestlib.TestFailure(
                        "etcd %s exited (status %s):\n%s" % (
                            self.members[i].name,
                            self.members[i].proc.popen.returncode,
                            self.members[i].proc.output()[-3000:]))
            return all(self.healthy(i) for i in idx)
        itestlib.wait_until(check, timeout, "etcd members %s healthy" %
                            [self.members[i].name for i in idx], 0.1)
        self.event("healthy: %s", ",".join(self.members[i].name
                                          for i in idx))

    # ---- the v3 JSON gateway -----------------------------------------

    def api(self, path, body, i=None, timeout=API_TIMEOUT):
        """POST body (a dict) to path on member i (default: the first
        healthy one); the answer as a dict.  EtcdError on an error
        answer."""
        order = [i] if i is not None else \
            [k for k, m in enumerate(self.members) if m.alive()]
        last = None
        for k in order:
            m = self.members[k]
            try:
                conn = http.client.HTTPConnection(LOOPBACK, m.client_port,
                                                  timeout=timeout)
                try:
                    conn.request("POST", path, body=json.dumps(body),
                                 headers={"Content-Type":
                                          "application/json"})
                    r = conn.getresponse()
                    data = r.read()
                finally:
                    conn.close()
            except (OSError, http.client.HTTPException) as e:
                last = e
                continue
            try:
                out = json.loads(data or b"{}")
            except ValueError:
                raise EtcdError("%s %s: not JSON: %r" % (m.name, path,
                                                          data[:200]))
            if r.status != 200 or "error" in out:
                raise EtcdError("%s %s: %d %s" % (m.name, path, r.status,
                                                   data[:300]))
            return out
        raise EtcdError("%s: no member answered (%s)" % (path, last))

    def put(self, key, value, lease=None, i=None):
        body = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = str(lease)
        return int(self.api("/v3/kv/put", body, i)["header"]["revision"])

    def get(self, key, i=None):
        """The value of key as bytes, or None."""
        kvs = self.api("/v3/kv/range", {"key": b64(key)}, i).get("kvs", [])
        return unb64(kvs[0].get("value")) if kvs else None

    def get_kv(self, key, i=None):
        """The whole kv of key (create_revision, mod_revision, version,
        lease as ints; key and value as bytes), or None."""
        kvs = self.api("/v3/kv/range", {"key": b64(key)}, i).get("kvs", [])
        if not kvs:
            return None
        kv = kvs[0]
        return {"key": unb64(kv.get("key")), "value": unb64(kv.get("value")),
                "create_revision": int(kv.get("create_revision", 0)),
                "mod_revision": int(kv.get("mod_revision", 0)),
                "version": int(kv.get("version", 0)),
                "lease": int(kv.get("lease", 0))}

    def range_prefix(self, prefix, i=None):
        """{key bytes: value bytes} of every key under prefix."""
        out = self.api("/v3/kv/range", {"key": b64(prefix),
                       "range_end": b64(prefix_end(prefix))}, i)
        return {unb64(kv["key"]): unb64(kv.get("value"))
                for kv in out.get("kvs", [])}

    def delete_prefix(self, prefix, i=None):
        self.api("/v3/kv/deleterange", {"key": b64(prefix),
                 "range_end": b64(prefix_end(prefix))}, i)

    def revision(self, i=None):
        out = self.api("/v3/kv/range", {"key": b64("\0"), "limit": "1"}, i)
        return int(out["header"]["revision"])

    def compact(self, revision=None, i=None):
        """Compact up to revision (default: the current one)."""
        rev = revision if revision is not None else self.revision(i)
        self.api("/v3/kv/compaction", {"revision": str(rev),
                 "physical": True}, i)
        self.event("compacted at %d", rev)
        return rev

    def lease_grant(self, ttl, i=None):
        return int(self.api("/v3/lease/grant", {"TTL": str(ttl)}, i)["ID"])

    def lease_revoke(self, lease, i=None):
        self.api("/v3/lease/revoke", {"ID": str(lease)}, i)

    def members_list(self, via=None):
        return self.api("/v3/cluster/member/list", {}, via).get(
            "members", [])

    def member_id(self, i, via=None):
        """etcd's id of member i (a decimal string), or None."""
        m = self.members[i]
        for mm in self.members_list(via):
            if mm.get("name") == m.name or m.peer_url in \
                    mm.get("peerURLs", []):
                return mm["ID"]
        return None

    def status(self, i):
        return self.api("/v3/maintenance/status", {}, i)

    def leader(self):
        """Index of the member that is the raft leader, or None."""
        for k, m in enumerate(self.members):
            if not m.alive():
                continue
            try:
                st = self.status(k)
            except EtcdError:
                continue
            lead = st.get("leader")
            for j, mm in enumerate(self.members):
                if not mm.alive():
                    continue
                try:
                    if self.status(j)["header"]["member_id"] == lead:
                        return j
                except (EtcdError, KeyError):
                    continue
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--logdir", default=None)
    args = ap.parse_args()
    c = EtcdCluster(args.members, logdir=args.logdir, log_level="warn")
    # SIGTERM (a script stopping it by PID) stops the members and removes
    # the data as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(0))
    try:
        c.start()
        print("etcd endpoints: %s" % ",".join(c.endpoints), flush=True)
        print("data and logs under %s; Ctrl-C stops it" % c.logdir,
              flush=True)
        while c.alive():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
