#!/usr/bin/env python3
"""HTTP/1 conformance run: public test suites replayed through canaryd
(and nginx beside it, when /usr/sbin/nginx exists), python3 stdlib only.

    tools/conformance.py [--build build] [-k substring] [-v] [--no-nginx]
                         [--mutants N] [--seed S]

Each proxy stands in front of a recording backend of its own: a raw socket
server that keeps exactly the bytes it receives, answers every request it
reads with a small 200, or, for a response case, with the case's raw bytes
(then closes).  Cases come from test/conformance/*.cases (one JSON object
a line: name, kind "request" or "response", data, the suite's verdict);
each file's header names the repository, files and commit it was
translated from.  Every case is sent as raw bytes on a new connection, and
checked against what RFC 9112 says (test/conformance/rfc9112.py, an
independent reading, with canaryd's documented policies on top):

  - the client's answer: the status of each response, and whether the
    connection was closed after an error;
  - the number of requests the backend received;
  - the bytes it received: each forwarded request is one the client sent,
    in order, with no byte in its head the client did not send beyond what
    the proxy adds or rewrites (host, x-forwarded-proto, x-request-id,
    x-envoy-expected-rq-timeout-ms, and the framing headers of a body it
    re-frames), and the same body.

Then the HTTP Garden's mutator idea with a fixed seed: mutants of valid
requests (bytes deleted, replaced or inserted, headers added, dropped or
replaced, methods swapped, requests duplicated or split), each checked
for the invariant "never more backend requests than valid client
requests, never a byte the client did not send in a forwarded head".

canaryd's results decide the exit status; nginx's are printed beside them
where the two differ, so that every difference is a decision.
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "test", "conformance"))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import configs                                  # noqa: E402
import itestlib                                 # noqa: E402
import rfc9112                                  # noqa: E402

CASE_DIR = os.path.join(REPO, "test", "conformance")
NGINX = "/usr/sbin/nginx"
LOOPBACK = "127.0.0.1"
OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
IDLE = 0.3          # s without a byte: the proxy has said all it will
GRACE = 0.05        # s after the expected answers, for any extra byte
CASE_LIMIT = 3.0    # s for one case, whatever happens
ADDED = {b"x-forwarded-proto", b"x-request-id",
         b"x-envoy-expected-rq-timeout-ms", b"host"}
HOP = {b"connection", b"keep-alive", b"proxy-connection", b"te",
       b"upgrade", b"transfer-encoding", b"expect"}

CONFIG = configs.HEAD + """\
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend_v1, timeout: 2s }
""" + configs.TAIL


# ---------------------------------------------------------------- backend

class Recorder:
    """A raw HTTP/1.1 server on a free loopback port that records each
    connection's bytes and answers each request it reads."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = port
        self.lock = threading.Lock()
        self.conns = []             # [bytearray] of this case
        self.response = None        # raw response bytes, or None
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def reset(self, response=None):
        with self.lock:
            self.conns = []
            self.response = response

    def received(self):
        with self.lock:
            return [bytes(c) for c in self.conns]

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        buf = bytearray()
        with self.lock:
            self.conns.append(buf)
            mine = self.conns
        answered = 0
        c.settimeout(0.2)
        deadline = time.monotonic() + 30
        try:
            while not self.stopped and time.monotonic() < deadline:
                try:
                    data = c.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    return
                with self.lock:
                    if mine is not self.conns:      # a later case now
                        mine = self.conns
                        buf = bytearray()
                        mine.append(buf)
                        answered = 0
                    buf += data
                    response = self.response
                reqs = rfc9112.parse_requests(bytes(buf), True)[0]
                for _ in reqs[answered:]:
                    if response is not None:
                        c.sendall(response)
                        return
                    c.sendall(OK_RESPONSE)
                answered = max(answered, len(reqs))
        except OSError:
            pass
        finally:
            c.close()


# ---------------------------------------------------------------- client

def split_responses(data, head=False):
    """The statuses of the complete responses in data (1xx dropped), and
    the decoded body of each."""
    out, i = [], 0
    while i < len(data):
        j = data.find(b"\r\n\r\n", i)
        if j < 0:
            break
        head_lines = data[i:j].split(b"\r\n")
        m = re.match(rb"^HTTP/1\.[01] ([0-9]{3})", head_lines[0])
        if not m:
            break
        status = int(m.group(1))
        hdrs = {}
        for line in head_lines[1:]:
            n, _, v = line.partition(b":")
            hdrs[n.strip().lower()] = v.strip()
        i = j + 4
        if status // 100 == 1:
            continue
        if head or status in (204, 304):
            out.append((status, b""))
            continue
        if hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
            try:
                body, n = rfc9112._chunked(data, i, 502)
            except (rfc9112.Bad, rfc9112.Incomplete):
                break
            out.append((status, body))
            i = n
            continue
        n = int(hdrs.get(b"content-length", b"0") or 0)
        if len(data) < i + n:
            break
        out.append((status, data[i:i + n]))
        i += n
    return out


def exchange(port, data, want, head=False):
    """Send data on a new connection; read until the proxy closes, or has
    given `want` responses and nothing more comes, or stays idle.
    Returns (responses, closed)."""
    s = socket.create_connection((LOOPBACK, port), timeout=2)
    got = b""
    closed = False
    start = time.monotonic()
    last = start
    try:
        s.sendall(data)
    except OSError:
        pass
    s.settimeout(GRACE)
    while time.monotonic() - start < CASE_LIMIT:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            n = len(split_responses(got, head))
            quiet = time.monotonic() - last
            if (want is not None and n >= want and quiet >= GRACE) or \
                    quiet >= IDLE:
                break
            continue
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        got += chunk
        last = time.monotonic()
    s.close()
    return split_responses(got, head), closed


# ---------------------------------------------------------------- cases

def load_cases(pattern):
    cases = []
    for name in sorted(os.listdir(CASE_DIR)):
        if not name.endswith(".cases"):
            continue
        suite = name[:-6]
        with open(os.path.join(CASE_DIR, name)) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                c = json.loads(line)
                c["suite_name"] = suite
                c["id"] = suite + ":" + c["name"]
                c["bytes"] = c["data"].encode("latin-1")
                if pattern and pattern not in c["id"]:
                    continue
                cases.append(c)
    return cases


def policy(req):
    """A valid request canaryd answers itself (documented in canaryd(8)):
    the statuses it may use, or None when it forwards the request."""
    t = req.target
    if req.version == (1, 0):
        return {426}                # accept_http_10 is off by default
    if req.method == b"CONNECT":
        return {400, 403, 404}
    if req.get_all(b"upgrade") and any(b"upgrade" in v.lower() for v in
                                       req.get_all(b"connection")):
        return {403}
    if not (t.startswith(b"/") or t.lower().startswith(b"http://")):
        return {400, 404}
    return None


def closes_after(req):
    conn = b",".join(req.get_all(b"connection")).lower()
    if req.version == (1, 0):
        return b"keep-alive" not in conn
    return b"close" in conn


def expect_request(c):
    """What RFC 9112 (and canaryd's policy) wants for a request case:
    dict(statuses, forwarded, close, reqs, partial, why)."""
    reqs, end, code, why, partial = rfc9112.parse_requests(c["bytes"])
    e = {"statuses": [], "forwarded": 0, "close": False, "reqs": [],
         "extra": None, "why": why or end}
    for r in reqs:
        p = policy(r)
        if p is not None:
            e["extra"] = p
            e["close"] = None       # either
            return e
        e["statuses"].append(200)
        e["forwarded"] += 1
        e["reqs"].append(r)
        if closes_after(r):
            e["close"] = True
            return e
    if end == "error":
        e["extra"] = {400, 501} if code == 501 else {code}
        e["close"] = True
    elif partial is not None and policy(partial) is None:
        e["forwarded"] += 1
        e["reqs"].append(partial)
        e["close"] = None
    elif end == "incomplete":
        # a head cut short: no answer yet, or an early 400 for what is
        # already wrong in it (a bad field seen before the head ends)
        e["extra"] = {None, 400}
        e["close"] = None
    return e


def expect_response(c):
    """What a client must get for a response case: a status and body, or
    502; 503 too for a head cut short (Envoy's "reset before headers");
    a cut or broken body after a valid head can only end in a close
    (None: no complete response)."""
    msg, why, where = rfc9112.parse_response(c["bytes"], c.get("head",
                                                              False))
    if msg is not None:
        return {"status": {msg.status}, "body": msg.body, "why": "valid"}
    if where == "body":
        return {"status": {None, 502}, "body": None, "why": why}
    if why == "truncated":
        return {"status": {502, 503}, "body": None, "why": why}
    return {"status": {502}, "body": None, "why": why}


def norm_target(t):
    tg = t
    if t.lower().startswith(b"http://"):
        rest = t[7:]
        k = min([x for x in (rest.find(b"/"), rest.find(b"?"))
                 if x >= 0] or [len(rest)])
        tg = rest[k:] or b"/"
        if tg.startswith(b"?"):
            tg = b"/" + tg
    return tg


def check_forwarded(sent, upstream, exact_count):
    """Problems with the bytes the backend received: each request must be
    one of the client's valid requests, in order, its head made only of
    the client's bytes (and the proxy's own additions), the same body."""
    probs = []
    got = []
    for conn in upstream:
        reqs, end, code, why, partial = rfc9112.parse_requests(conn, True)
        if end == "error":
            probs.append("backend received an invalid request: %s: %r" %
                         (why, conn[:120]))
        got += reqs + ([partial] if partial is not None else [])
    if len(got) > len(sent) or (exact_count and len(got) != len(sent)):
        probs.append("backend received %d requests, want %s%d" %
                     (len(got), "" if exact_count else "at most ",
                      len(sent)))
    for i, (g, s) in enumerate(zip(got, sent)):
        if (g.method, g.target) != (s.method, norm_target(s.target)):
            probs.append("request %d forwarded as %r %r (sent %r %r)" %
                         (i, g.method, g.target, s.method, s.target))
        mine = {(n.lower(), v) for n, v in s.headers}
        names = {n for n, _ in mine}
        for n, v in g.headers:
            ln = n.lower()
            if (ln, v) in mine or ln in ADDED:
                continue
            if ln in (b"transfer-encoding", b"content-length") and \
                    (b"transfer-encoding" in names or
                     b"content-length" in names):
                continue
            if ln == b"connection" and v.lower() in (b"close",
                                                     b"keep-alive"):
                continue
            probs.append("request %d: header %r: %r forwarded, not sent "
                         "so by the client" % (i, n, v[:60]))
        if g.body != s.body and not (g is got[-1] and
                                     s.body.startswith(g.body)):
            probs.append("request %d: body %r forwarded, %r sent" %
                         (i, g.body[:60], s.body[:60]))
    return probs


def judge_request(c, e, responses, closed, upstream):
    probs = []
    statuses = [s for s, _ in responses]
    n = len(e["statuses"])
    if statuses[:n] != e["statuses"]:
        probs.append("answers %s, want %s" % (statuses, e["statuses"]))
    rest = statuses[n:]
    if e["extra"] is not None:
        if not rest and None in e["extra"]:
            pass
        elif len(rest) != 1 or rest[0] not in e["extra"]:
            probs.append("answers %s, want %s then one of %s" %
                         (statuses, e["statuses"],
                          sorted(x for x in e["extra"] if x)))
    elif rest:
        probs.append("answers %s, want %s" % (statuses, e["statuses"]))
    if e["close"] is True and not closed:
        probs.append("connection left open")
    probs += check_forwarded(e["reqs"], upstream, True)
    return probs


def judge_response(c, e, responses, closed, upstream):
    probs = []
    if not responses:
        if None not in e["status"]:
            probs.append("no complete response, want %s" %
                         sorted(x for x in e["status"] if x))
        return probs
    st, body = responses[0]
    if st not in e["status"]:
        probs.append("status %d, want %s" % (st, sorted(
            x for x in e["status"] if x)))
    elif e["body"] is not None and body != e["body"]:
        probs.append("body %r, want %r" % (body[:60], e["body"][:60]))
    return probs


def outcome(responses, closed, upstream):
    """One line: the statuses, a close, the requests upstream (an invalid
    one counted, and said)."""
    nreq, bad = 0, ""
    for u in upstream:
        reqs, end, _, _, partial = rfc9112.parse_requests(u, True)
        nreq += len(reqs) + (partial is not None)
        if end == "error":
            nreq += 1
            bad = " (invalid)"
    return "%s%s, %d upstream%s" % ([s for s, _ in responses] or
                                    "no answer", " closed" if closed
                                    else "", nreq, bad)


def on_each(proxies, fn):
    """fn(name, port, recorder) for every proxy at once."""
    threads = [threading.Thread(target=fn, args=p) for p in proxies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_one(c, proxies):
    """Run c through each proxy at once; {proxy name: (problems, text)}."""
    results = {}
    if c["kind"] == "request":
        e = expect_request(c)
        want = len(e["statuses"]) + (1 if e["extra"] and None not in
                                     e["extra"] else 0)
        data, head = c["bytes"], False
    else:
        e = expect_response(c)
        want = 1
        head = c.get("head", False)
        data = (b"HEAD" if head else b"GET") + \
            b" / HTTP/1.1\r\nHost: t\r\n\r\n"

    def one(name, port, rec):
        rec.reset(c["bytes"] if c["kind"] == "response" else None)
        responses, closed = exchange(port, data, want, head)
        time.sleep(0.02)
        upstream = rec.received()
        if c["kind"] == "request":
            probs = judge_request(c, e, responses, closed, upstream)
        else:
            probs = judge_response(c, e, responses, closed, upstream)
        results[name] = (probs, outcome(responses, closed, upstream))
    on_each(proxies, one)
    return e, results


# ---------------------------------------------------------------- mutants

SEED_HEADERS = [(b"Content-Length", b"0"), (b"Transfer-Encoding",
                b"chunked"), (b"Transfer-Encoding", b"identity"),
                (b"", b""), (b"Test", b""), (b"Connection", b"close"),
                (b"Connection", b"keep-alive"), (b"Host", b"u")]
MEANINGFUL = [b"\r\n", b"\r", b"\n", b"\x00", b":", b"\t", b" "]
MUT_METHODS = [b"GET", b"POST", b"PUT", b"HEAD", b"OPTIONS", b"QUERY",
               b"G", b"", b"PATCH", b"DELETE"]


def mutate(rng, data):
    """One mutation of a request stream, after the Garden's mutator."""
    what = rng.randrange(9)
    i = rng.randrange(len(data) + 1)
    if what == 0 and data:                      # delete a byte
        i = min(i, len(data) - 1)
        return data[:i] + data[i + 1:]
    if what == 1 and data:                      # replace a byte
        i = min(i, len(data) - 1)
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if what == 2:                               # insert a byte
        return data[:i] + bytes([rng.randrange(256)]) + data[i:]
    if what == 3:                               # insert a meaningful one
        return data[:i] + rng.choice(MEANINGFUL) + data[i:]
    lines = data.split(b"\r\n")
    heads = [k for k in range(1, len(lines)) if b":" in lines[k]]
    if what == 4 and heads:                     # delete a header
        del lines[rng.choice(heads)]
        return b"\r\n".join(lines)
    if what in (5, 6) and heads:                # insert / replace one
        n, v = rng.choice(SEED_HEADERS)
        k = rng.choice(heads)
        if what == 5:
            lines.insert(k, n + b": " + v)
        else:
            lines[k] = n + b": " + v
        return b"\r\n".join(lines)
    if what == 7:                               # another method
        sp = data.find(b" ")
        if sp > 0:
            return rng.choice(MUT_METHODS) + data[sp:]
    if what == 8:                               # duplicate or cut
        if rng.randrange(2):
            return data + data
        return data[:i]
    return data + data[:rng.randrange(len(data) + 1)]


def mutants(cases, n, seed):
    rng = random.Random(seed)
    seeds = [c["bytes"] for c in cases if c.get("seed")]
    out = []
    for k in range(n):
        d = rng.choice(seeds)
        for _ in range(1 + rng.randrange(3)):
            d = mutate(rng, d)
        out.append({"id": "mutant:%03d" % k, "name": "%03d" % k,
                    "kind": "request", "bytes": d, "mutant": True})
    return out


def run_mutant(c, proxies):
    reqs, end, code, why, partial = rfc9112.parse_requests(c["bytes"])
    valid = reqs + ([partial] if partial is not None else [])
    results = {}

    def one(name, port, rec):
        rec.reset(None)
        responses, closed = exchange(port, c["bytes"], None)
        time.sleep(0.02)
        upstream = rec.received()
        probs = check_forwarded(valid, upstream, False)
        results[name] = (probs, outcome(responses, closed, upstream))
    on_each(proxies, one)
    return results


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
user root;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    upstream backend { server 127.0.0.1:%(backend)d; keepalive 4; }
    server {
        listen 127.0.0.1:%(port)d;
        server_name t;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 2s;
        }
    }
}
"""


def start_nginx(env, rec_port, port):
    d = tempfile.mkdtemp(prefix="conformance-nginx-", dir=env.logdir)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF % {"dir": d, "backend": rec_port, "port": port})
    p = itestlib.Proc("nginx", [NGINX, "-p", d, "-c", conf],
                      os.path.join(d, "stderr.log"))
    env.procs.append(p)
    for _ in range(100):
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
            return p
        except OSError:
            if not p.alive():
                break
            time.sleep(0.05)
    raise itestlib.TestFailure("nginx did not start: %s" % p.output())


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("-k", default=None, help="only cases whose id has it")
    ap.add_argument("-v", action="store_true", help="print every case")
    ap.add_argument("--no-nginx", action="store_true")
    ap.add_argument("--mutants", type=int, default=300)
    ap.add_argument("--seed", type=int, default=9112)
    args = ap.parse_args()

    logdir = tempfile.mkdtemp(prefix="canaryd-conformance-")
    env = itestlib.Env(args.build, logdir)
    recs = []
    t0 = time.monotonic()
    try:
        rec = Recorder(env.v1_port)
        recs.append(rec)
        env.port("v2_port")
        cd = env.start_canaryd(env.write_config(CONFIG), concurrency=1)
        proxies = [("canaryd", env.proxy_port, rec)]
        if os.access(NGINX, os.X_OK) and not args.no_nginx:
            nrec = Recorder(env.port("nginx_backend"))
            recs.append(nrec)
            start_nginx(env, nrec.port, env.port("nginx"))
            proxies.append(("nginx", env.port("nginx"), nrec))
        else:
            print("conformance: %s not found: canaryd alone" % NGINX)
        rc = run(args, proxies, cd)
    finally:
        for r in recs:
            r.stop()
        env.stop()
    print("conformance: %.1fs" % (time.monotonic() - t0))
    if rc == 0:
        shutil.rmtree(logdir, ignore_errors=True)
    else:
        print("conformance: logs in %s" % logdir)
    return rc


def diff_kind(res):
    """Why canaryd and nginx differ on a case, in a few words."""
    cd, ng = res["canaryd"][0], res["nginx"][0]
    if cd:
        return "canaryd off RFC 9112"
    if not ng:
        return "both conform, different choices"
    text = " ".join(ng)
    if "forwarded, not sent" in text or "invalid request" in text or \
            "backend received" in text:
        return "nginx forwards what RFC 9112 refuses"
    if "want [200" in text or "want [] then" in text:
        return "nginx answers other than RFC 9112 asks"
    return "nginx off RFC 9112: " + ng[0].split(",")[0][:40]


def run(args, proxies, cd):
    cases = load_cases(args.k)
    tally = {}          # suite -> {proxy: [pass, total]}
    fails, diffs = [], []
    pat = args.k
    muts = mutants(load_cases(None), args.mutants, args.seed) \
        if not pat or pat in "mutant:" else []
    for c in cases + muts:
        if c.get("mutant"):
            res = run_mutant(c, proxies)
            why = "mutant"
        else:
            e, res = run_one(c, proxies)
            why = e.get("why")
        suite = c["id"].split(":")[0]
        t = tally.setdefault(suite, {})
        for name, (probs, text) in res.items():
            p = t.setdefault(name, [0, 0])
            p[1] += 1
            if not probs:
                p[0] += 1
            elif name == "canaryd":
                fails.append((c, probs, text))
        if len(res) > 1 and res["canaryd"][1] != res["nginx"][1]:
            diffs.append((c, why, res))
        if args.v:
            print("%-60s %s" % (c["id"][:60], "; ".join(
                "%s: %s%s" % (n, x[1], "" if not x[0] else " FAIL")
                for n, x in res.items())))
    if not cd.alive():
        fails.append(({"id": "canaryd", "bytes": b""},
                      ["canaryd exited"], ""))
    kinds = {}
    for c, why, res in diffs:
        kind = diff_kind(res)
        kinds[kind] = kinds.get(kind, 0) + 1
        print("differs %s [%s] (RFC 9112: %s)\n    data %r" % (
            c["id"], kind, why, c["bytes"][:100]))
        for n in ("canaryd", "nginx"):
            print("    %-8s %s%s" % (n, res[n][1], "" if not res[n][0] else
                                     "  -- " + "; ".join(res[n][0])[:160]))
    for c, probs, text in fails:
        print("FAIL %s: %s\n    data %r\n    got %s" % (
            c["id"], "; ".join(probs), c["bytes"][:120], text))
    for kind, n in sorted(kinds.items()):
        print("differences: %3d %s" % (n, kind))
    names = [p[0] for p in proxies]
    print("\n%-10s %s" % ("suite", "  ".join("%-14s" % n for n in names)))
    for suite, t in sorted(tally.items()):
        print("%-10s %s" % (suite, "  ".join(
            "%-14s" % ("%d/%d" % tuple(t.get(n, [0, 0]))) for n in names)))
    total = sum(t["canaryd"][1] for t in tally.values())
    bad = len(fails)
    print("canaryd and nginx differ on %d cases" % len(diffs)
          if len(names) > 1 else "")
    print("conformance: %d passed, %d failed" % (total - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
