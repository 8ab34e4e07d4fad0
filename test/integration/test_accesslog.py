"""Access log (HCM access_log, Envoy's default format): one line per
request with the right fields and response flags, SIGUSR1 reopens a
rotated file, the admin's access_log_path gets its own lines."""

import os
import re
import signal
import socket
import struct
import time

import configs
from itestlib import eq, expect, wait_until

LINE = re.compile(
    r'^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] '
    r'"(\S+) (\S+) (\S+)" (\d+) (\S+) (\d+) (\d+) (\d+) (\S+) '
    r'"([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$')
FIELDS = ("start", "method", "path", "protocol", "code", "flags", "rx",
          "tx", "duration", "svc", "xff", "ua", "rid", "authority",
          "upstream")

ACCESS_LOG = """\
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {alog}
"""

ROUTES = configs.one_vhost("""\
              - match: { prefix: "/down" }
                route: { cluster: backend_v2 }
              - match: { prefix: "/echo" }
                route: { cluster: backend_v1 }
              - match: { prefix: "/ok" }
                route: { cluster: backend_v1 }
""")


def config(env):
    text = ROUTES.replace("          stat_prefix: ingress\n",
                          "          stat_prefix: ingress\n" + ACCESS_LOG, 1)
    text = text.replace("admin:\n", "admin:\n  access_log_path: {adminlog}\n",
                        1)
    alog = os.path.join(env.logdir, "access.log")
    adminlog = os.path.join(env.logdir, "admin-access.log")
    for p in (alog, adminlog, alog + ".1"):
        if os.path.exists(p):
            os.unlink(p)
    return env.write_config(text, alog=alog, adminlog=adminlog), alog, \
        adminlog


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    expect(text == "" or text.endswith("\n"),
           "%s ends inside a line: %r" % (path, text[-80:]))
    out = []
    for line in text.splitlines():
        m = LINE.match(line)
        expect(m is not None, "not Envoy's default format: %r" % line)
        out.append(dict(zip(FIELDS, m.groups())))
    return out


def lines_when(path, n, what):
    """The file's lines once it has at least n (the master relays them
    a loop turn or two after the responses)."""
    wait_until(lambda: len(read_lines(path)) >= n, 5.0, what)
    return read_lines(path)


def test_one_line_per_request_with_fields(env):
    env.start_backend("v1")         # v2 stays down: connect failures
    path, alog, _ = config(env)
    env.start_canaryd(path, concurrency=2)
    auth = "127.0.0.1:%d" % env.proxy_port
    v1 = "127.0.0.1:%d" % env.v1_port
    c = env.client()
    n = 12
    for i in range(n):
        r = c.get("/echo?i=%d" % i, headers={
            "User-Agent": "itest-ua/1.0 (x; y)",
            "X-Forwarded-For": "10.1.2.3",
            "X-Request-Id": "rid-%d" % i})
        eq(r.status, 200, "GET /echo")
    r = env.request("POST", "/ok", body=b"x" * 100,
                    headers={"X-Request-Id": "rid-post"})
    eq(r.status, 200, "POST /ok")
    # a body past every buffer: c_in drops the head while it streams
    big = 300 * 1024
    r = env.request("POST", "/ok?big=1", body=b"y" * big, headers={
        "X-Request-Id": "rid-big", "User-Agent": "big-ua",
        "Content-Type": "application/octet-stream"})
    eq(r.status, 200, "POST /ok with a large body")
    eq(r.header("x-body-bytes"), str(big), "backend got the whole body")
    r = env.get("/nope", headers={"X-Request-Id": "rid-404"})
    eq(r.status, 404, "GET /nope")
    r = env.get("/down", headers={"X-Request-Id": "rid-503"})
    eq(r.status, 503, "GET /down (nothing listening)")
    c.close()

    lines = lines_when(alog, n + 4, "%d access log lines" % (n + 4))
    eq(len(lines), n + 4, "access log lines (one per request)")
    by_rid = {}
    for ln in lines:
        expect(ln["rid"] not in by_rid, "two lines for %s" % ln["rid"])
        by_rid[ln["rid"]] = ln
    for i in range(n):
        ln = by_rid.get("rid-%d" % i)
        expect(ln is not None, "no line for rid-%d" % i)
        eq((ln["method"], ln["path"], ln["protocol"], ln["code"],
            ln["flags"]), ("GET", "/echo?i=%d" % i, "HTTP/1.1", "200", "-"),
           "line of request %d" % i)
        eq((ln["xff"], ln["authority"], ln["upstream"]),
           ("10.1.2.3", auth, v1), "xff, authority, upstream of %d" % i)
        eq(ln["ua"], "itest-ua/1.0 (x; y)", "user agent")
        expect(int(ln["tx"]) > 0, "bytes sent of /echo: %s" % ln["tx"])
        expect(ln["svc"].isdigit(), "service time %r" % ln["svc"])
        eq(ln["rx"], "0", "bytes received of a GET")
    post = by_rid["rid-post"]
    eq((post["method"], post["code"], post["rx"], post["upstream"]),
       ("POST", "200", "100", v1), "POST line")
    bl = by_rid["rid-big"]
    eq((bl["method"], bl["path"], bl["code"], bl["rx"], bl["ua"],
        bl["authority"], bl["upstream"]),
       ("POST", "/ok?big=1", "200", str(big), "big-ua", auth, v1),
       "line of the large POST")
    nr = by_rid["rid-404"]
    eq((nr["code"], nr["flags"], nr["upstream"], nr["svc"]),
       ("404", "NR", "-", "-"), "404 line")
    uf = by_rid["rid-503"]
    eq((uf["code"], uf["flags"], uf["upstream"]),
       ("503", "UF", "127.0.0.1:%d" % env.v2_port), "503 line")
    eq(uf["tx"], str(len(
        "upstream connect error or disconnect/reset before headers. "
        "reset reason: remote connection failure, transport failure "
        "reason: delayed connect error: Connection refused")),
       "503 body bytes")


def test_sigusr1_reopens_a_moved_file(env):
    env.start_backend("v1")
    path, alog, _ = config(env)
    env.start_canaryd(path, concurrency=2)
    eq(env.get("/echo", headers={"X-Request-Id": "before"}).status, 200,
       "GET before rotation")
    lines_when(alog, 1, "the first line")
    os.rename(alog, alog + ".1")
    os.kill(env.proxy.pid, signal.SIGUSR1)
    wait_until(lambda: os.path.exists(alog), 5.0,
               "SIGUSR1 to create the file again")
    for i in range(4):
        eq(env.get("/echo", headers={"X-Request-Id": "after-%d" % i}).status,
           200, "GET after rotation")
    new = lines_when(alog, 4, "lines in the new file")
    eq(sorted(ln["rid"] for ln in new),
       ["after-%d" % i for i in range(4)], "lines in the new file")
    old = read_lines(alog + ".1")
    eq([ln["rid"] for ln in old], ["before"], "lines in the rotated file")


def test_admin_access_log(env):
    env.start_backend("v1")
    path, alog, adminlog = config(env)
    env.start_canaryd(path, concurrency=1)
    base = len(read_lines(adminlog))     # the readiness probes
    eq(env.admin("/server_info").status, 200, "admin /server_info")
    eq(env.admin("/nowhere").status, 404, "admin /nowhere")
    lines = lines_when(adminlog, base + 2, "admin access log lines")[base:]
    eq([(ln["method"], ln["path"], ln["code"]) for ln in lines],
       [("GET", "/server_info", "200"), ("GET", "/nowhere", "404")],
       "admin lines")
    eq(lines[0]["authority"], "127.0.0.1:%d" % env.admin_port,
       "admin authority")
    expect(int(lines[0]["tx"]) > 0, "admin bytes sent")
    # streamed pages (sent a piece at a time): the line counts every
    # piece's bytes, written when the last is out
    sizes = {}
    for page in ("/stats", "/stats/prometheus", "/clusters", "/config_dump"):
        r = env.admin(page)
        eq(r.status, 200, "admin " + page)
        sizes[page] = len(r.body)
    lines = lines_when(adminlog, base + 6, "admin access log lines")[base:]
    eq({ln["path"]: int(ln["tx"]) for ln in lines[2:]}, sizes,
       "bytes sent of each page, every piece counted")
    time.sleep(0.2)
    eq([ln for ln in read_lines(alog) if ln["path"] == "/server_info"], [],
       "admin requests in the listener's access log")


def test_client_gone_before_response_is_dc(env):
    v1 = env.start_backend("v1")
    path, alog, _ = config(env)
    env.start_canaryd(path, concurrency=1)
    v1.ctl(delay_ms=1500)
    c = env.raw(timeout=5.0)
    c.send(b"GET /ok HTTP/1.1\r\nHost: dc.example\r\n"
           b"X-Request-Id: rid-dc\r\n\r\n")
    time.sleep(0.2)                 # routed, waiting for the backend
    # a reset, not a FIN: a half-closed HTTP/1 client still gets its
    # response
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    c.close()
    lines = lines_when(alog, 1, "the abandoned request's line")
    eq([(ln["rid"], ln["code"], ln["flags"], ln["authority"],
         ln["upstream"]) for ln in lines],
       [("rid-dc", "0", "DC", "dc.example", "127.0.0.1:%d" % env.v1_port)],
       "line of a request the client abandoned")
