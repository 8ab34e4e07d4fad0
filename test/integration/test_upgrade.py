"""WebSocket and other HTTP/1.1 upgrades (canaryd-envoy(7), UPGRADES), run
from Envoy's own style of config (test/configs/envoy-docs/websocket.yaml):
a real handshake and frames both ways, with a client written here from
RFC 6455 and with Node's ws package when it can be had; routes that
refuse (403) or pass a request on as a plain one (h2c, a non-101 answer);
50 MiB each way through a slow reader with the workers' memory bounded;
the idle timeout; half-close; a 90/10 split over upgrade requests; a
structural reload with a tunnel open; the stats Envoy keeps."""

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import configs  # noqa: F401 (the suite's shared configs)
from itestlib import Skip, eq, expect, settle, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "test", "configs", "envoy-docs")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
P = "http.ingress_ws."


def start(env, concurrency=2, v1_args=()):
    env.start_backend("v1", args=v1_args)
    env.start_backend("v2")
    return env.start_canaryd(env.file_config(os.path.join(
        DOCS, "websocket.yaml")), concurrency=concurrency)


class WS:
    """A WebSocket client over a plain socket (RFC 6455): the handshake,
    masked frames out, frames in."""

    def __init__(self, env, path="/chat", upgrade="websocket",
                 timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", env.proxy_port),
                                             timeout=timeout)
        self.key = base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n"
                          b"Host: chat.example\r\n"
                          b"Connection: Upgrade\r\n"
                          b"Upgrade: " + upgrade.encode() + b"\r\n"
                          b"Sec-WebSocket-Key: " + self.key + b"\r\n"
                          b"Sec-WebSocket-Version: 13\r\n\r\n")
        self.buf = b""
        head = self._read_to(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        self.status = int(lines[0].split(b" ")[1])
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            self.headers[k.strip().lower().decode()] = v.strip().decode()

    def accept_ok(self):
        want = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        return self.headers.get("sec-websocket-accept") == want.decode()

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("closed; have %r" % self.buf[:100])
        self.buf += d

    def _read_to(self, sep):
        for _ in range(10000):
            i = self.buf.find(sep)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(sep):]
                return out
            self._fill()
        raise EOFError("no %r" % sep)

    def _read_n(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload, op=0x1, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", (0x80 if fin else 0) | op, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", (0x80 if fin else 0) | op, 0xfe, n)
        else:
            hdr = struct.pack("!BBQ", (0x80 if fin else 0) | op, 0xff, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + body)

    def recv(self):
        """(fin, opcode, payload) of the next frame."""
        b0, b1 = self._read_n(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack("!H", self._read_n(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_n(8))[0]
        expect(not (b1 & 0x80), "a server frame came masked")
        return bool(b0 & 0x80), b0 & 0x0f, self._read_n(n)

    def at_eof(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


def raw_upgrade(env, path, upgrade, extra=b""):
    """A socket that asked path for upgrade: (socket, head, rest)."""
    s = socket.create_connection(("127.0.0.1", env.proxy_port), timeout=5)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n"
              b"Connection: Upgrade\r\nUpgrade: " + upgrade.encode() +
              b"\r\n\r\n" + extra)
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            break
        data += d
    head, _, rest = data.partition(b"\r\n\r\n")
    return s, head, rest


def read_n(s, n, buf=b""):
    while len(buf) < n:
        d = s.recv(65536)
        expect(d, "EOF after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def test_websocket_frames_both_ways(env):
    rec = os.path.join(env.logdir, "v1.rec")
    start(env, v1_args=("--record", rec))
    cx_before = env.stat("cluster.service_v1.upstream_cx_destroy")
    ws = WS(env, path="/stream/chat", upgrade="websocket")
    # /stream/ enables only x-echo; websocket comes from the manager
    eq(ws.status, 101, "handshake status")
    expect(ws.accept_ok(), "Sec-WebSocket-Accept %r for key %r" %
           (ws.headers.get("sec-websocket-accept"), ws.key))
    eq((ws.headers.get("upgrade"), ws.headers.get("connection"),
        ws.headers.get("server"), ws.headers.get("x-backend")),
       ("websocket", "Upgrade", "canaryd", "v1"), "101 headers")
    expect("content-length" not in ws.headers and
           "transfer-encoding" not in ws.headers, "101 framed: %r" %
           ws.headers)
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_active"), 1), 1,
       "downstream_cx_upgrades_active while open")
    ws.send(b"hello")
    eq(ws.recv(), (True, 1, b"hello"), "text frame echoed")
    big = os.urandom(70000)
    ws.send(big, op=0x2)
    eq(ws.recv(), (True, 2, big), "70000-byte binary frame echoed")
    ws.send(b"part one ", fin=False)
    ws.send(b"and two", op=0x0)
    eq(ws.recv(), (False, 1, b"part one "), "first fragment")
    eq(ws.recv(), (True, 0, b"and two"), "continuation")
    ws.send(b"are you there", op=0x9)
    eq(ws.recv(), (True, 0xa, b"are you there"), "ping answered by pong")
    ws.send(struct.pack("!H", 1000) + b"bye", op=0x8)
    eq(ws.recv(), (True, 0x8, struct.pack("!H", 1000) + b"bye"),
       "close echoed")
    expect(ws.at_eof(), "connection not ended after the close handshake")
    ws.close()
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_active"), 0), 0,
       "downstream_cx_upgrades_active after the close")
    st = env.stats()
    eq((env.stat(P + "downstream_cx_upgrades_total", st),
        env.stat("cluster.service_v1.upstream_rq_101", st),
        env.stat(P + "downstream_rq_1xx", st),
        env.stat("cluster.service_v1.upstream_cx_active", st),
        env.stat("cluster.service_v1.upstream_rq_active", st),
        env.stat(P + "downstream_rq_active", st)),
       (1, 1, 1, 0, 0, 0), "upgrades_total, upstream_rq_101, "
       "downstream_rq_1xx, upstream cx and rq active, downstream rq active")
    eq(env.stat("cluster.service_v1.upstream_cx_destroy", st) - cx_before,
       1, "the upstream connection closed with the tunnel, not pooled")
    expect(env.stat(P + "downstream_cx_rx_bytes_total", st) > 70000 and
           env.stat("cluster.service_v1.upstream_cx_rx_bytes_total", st) >
           70000, "tunnel bytes counted on both sides")
    with open(rec, "rb") as f:
        seen = f.read()
    i = seen.find(b"GET /stream/chat HTTP/1.1\r\n")
    expect(i >= 0, "upgrade request not recorded: %r" % seen[:300])
    head = seen[i:seen.index(b"\r\n\r\n", i)].lower()
    expect(b"\r\nupgrade: websocket" in head and
           b"\r\nconnection: upgrade" in head and
           b"\r\nsec-websocket-key: " in head,
           "upgrade headers not forwarded: %r" % head)
    # a plain request after, on a new connection, as ever
    eq(env.get("/api").status, 200, "plain GET after the tunnel")
    # the access log line, written when the tunnel ended: 101 and the
    # tunnel's bytes each way (the frames as they went on the wire)
    line = wait_until(lambda: [ln for ln in env.proxy.output().splitlines()
                               if '"GET /stream/chat HTTP/1.1" 101' in ln],
                      3, "the tunnel's access log line")[0]
    expect(" 70083 70059 " in line, "bytes received and sent: %r" % line)


NODE_CLIENT = r"""
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[2]);
const got = [];
ws.on('upgrade', (res) => { got.push(['upgrade', res.statusCode,
    res.headers['x-backend']]); });
ws.on('open', () => {
  ws.send('hello from ws');
  ws.send(Buffer.from([0, 1, 2, 253, 254, 255]));
  ws.ping('p1');
});
ws.on('message', (data, isBinary) => {
  got.push(['message', isBinary, isBinary ? [...data] : data.toString()]);
  if (got.filter((g) => g[0] === 'message').length === 2)
    ws.close(1000, 'done');
});
ws.on('pong', (data) => { got.push(['pong', data.toString()]); });
ws.on('close', (code, reason) => {
  got.push(['close', code, reason.toString()]);
  console.log(JSON.stringify(got));
  process.exit(0);
});
ws.on('error', (e) => { console.log(JSON.stringify([['error', '' + e]]));
  process.exit(1); });
setTimeout(() => { console.log(JSON.stringify(got.concat([['timeout']])));
  process.exit(2); }, 10000);
"""


def node_ws_dir(env):
    """A directory holding Node's ws package: ITEST_NODE_WS if set, else
    one under the build directory, filled by npm the first time.  Skip
    when node, npm or the registry is not there."""
    if shutil.which("node") is None:
        raise Skip("node is not installed (apt-get install nodejs npm)")
    d = os.environ.get("ITEST_NODE_WS") or os.path.join(
        os.path.abspath(env.build), "itest-node")
    if os.path.isdir(os.path.join(d, "node_modules", "ws")):
        return d
    if shutil.which("npm") is None:
        raise Skip("npm is not installed, and %s has no ws package" % d)
    os.makedirs(d, exist_ok=True)
    try:
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                            "--prefix", d, "ws@8"], capture_output=True,
                           timeout=120)
    except subprocess.TimeoutExpired:
        raise Skip("npm install ws: no answer from the registry in 120 s")
    if r.returncode != 0 or not os.path.isdir(
            os.path.join(d, "node_modules", "ws")):
        raise Skip("npm install ws failed: %s" %
                   r.stderr.decode(errors="replace")[-300:])
    return d


def test_node_ws_client_through_canaryd(env):
    d = node_ws_dir(env)
    start(env)
    script = os.path.join(env.logdir, "ws-client.js")
    with open(script, "w") as f:
        f.write(NODE_CLIENT)
    r = subprocess.run(["node", script, "ws://127.0.0.1:%d/stream/node" %
                        env.proxy_port], capture_output=True, timeout=20,
                       env=dict(os.environ, NODE_PATH=os.path.join(
                           d, "node_modules")))
    out = r.stdout.decode(errors="replace").strip()
    eq(r.returncode, 0, "node ws client: %s %s" %
       (out, r.stderr.decode(errors="replace")[-500:]))
    got = json.loads(out.splitlines()[-1])
    eq(got[0], ["upgrade", 101, "v1"], "ws saw the 101")
    msgs = [g for g in got if g[0] == "message"]
    eq(msgs, [["message", False, "hello from ws"],
              ["message", True, [0, 1, 2, 253, 254, 255]]],
       "messages echoed through canaryd")
    expect(["pong", "p1"] in got, "no pong: %r" % got)
    eq(got[-1], ["close", 1000, "done"], "close handshake")
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_active"), 0), 0,
       "upgrades_active after ws closed")


def test_refused_and_plain_upgrades(env):
    start(env)
    # the route turns websocket off: 403, the connection closes
    ws = WS(env, path="/no-ws/x")
    eq(ws.status, 403, "websocket on /no-ws")
    expect(ws.at_eof(), "connection left open after the 403")
    ws.close()
    # a type nobody enables, on the split route
    s, head, _ = raw_upgrade(env, "/chat", "x-echo")
    expect(head.startswith(b"HTTP/1.1 403 "), "x-echo on /: %r" % head)
    s.close()
    eq(settle(lambda: env.stat(P + "downstream_rq_ws_on_non_ws_route"), 2),
       2, "downstream_rq_ws_on_non_ws_route")
    # a route's own type (x-echo on /stream/) works; websocket there too
    s, head, rest = raw_upgrade(env, "/stream/x", "X-Echo", b"early")
    expect(head.startswith(b"HTTP/1.1 101 "), "x-echo on /stream/: %r" %
           head)
    eq(read_n(s, 5, rest), b"early", "bytes sent with the head, echoed")
    s.close()
    # h2c is no upgrade: Envoy's codec drops it and serves the request
    c = env.raw()
    c.send(b"GET /echo HTTP/1.1\r\nHost: t\r\n"
           b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
           b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
    r = c.read_response()
    c.close()
    eq(r.status, 200, "h2c request status")
    hdrs = [k.lower() for k, _ in r.json()["headers"]]
    expect("upgrade" not in hdrs and "http2-settings" not in hdrs,
           "h2c headers forwarded: %r" % hdrs)


def test_non_101_answer_is_a_normal_response(env):
    v1 = env.start_backend("v1", args=("--upgrade", "0"))
    env.start_backend("v2")
    env.start_canaryd(env.file_config(os.path.join(
        DOCS, "websocket.yaml")), concurrency=1)
    before = env.stat("cluster.service_v1.upstream_cx_destroy")
    s, head, rest = raw_upgrade(env, "/stream/x", "x-echo")
    expect(head.startswith(b"HTTP/1.1 200 "), "answer %r" % head)
    expect(b"\r\nconnection: close" in head.lower(),
           "the answer does not close: %r" % head)
    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0])
    body = read_n(s, length, rest)
    expect(b"stable" in body, "body %r" % body)
    s.settimeout(3)
    expect(s.recv(100) == b"", "connection open after a non-101 answer")
    s.close()
    eq(settle(lambda: env.stat("cluster.service_v1.upstream_cx_destroy") -
              before, 1), 1, "upstream connection closed, not pooled")
    eq(env.stat("cluster.service_v1.upstream_cx_active"), 0,
       "upstream_cx_active")
    eq(env.stat(P + "downstream_cx_upgrades_total"), 0, "upgrades_total")
    v1.ctl(upgrade=1)
    s, head, _ = raw_upgrade(env, "/stream/x", "x-echo")
    expect(head.startswith(b"HTTP/1.1 101 "), "after upgrade=1: %r" % head)
    s.close()


def worker_rss_kb(p):
    total = 0
    for pid in p.workers():
        try:
            with open("/proc/%d/status" % pid) as f:
                for ln in f:
                    if ln.startswith("VmRSS:"):
                        total = max(total, int(ln.split()[1]))
        except OSError:
            pass
    return total


def path_buffers():
    """What the kernel may hold between our writer and our reader: the
    proxy's and the backend's three receiving sockets autotune up to
    tcp_rmem's maximum and their three sending ones up to tcp_wmem's
    (32 MiB and 4 MiB on some hosts: 50 MiB could all be in flight)."""
    def most(name):
        with open("/proc/sys/net/ipv4/" + name) as f:
            return int(f.read().split()[2])
    return 3 * most("tcp_rmem") + 3 * most("tcp_wmem")


def test_tunnel_50mib_through_a_slow_reader(env):
    p = start(env, concurrency=1)
    total = max(50 << 20, path_buffers() + (16 << 20)) & ~0xffff
    block = bytes((33 + i % 89) for i in range(65536))
    rss0 = worker_rss_kb(p)
    s, head, rest = raw_upgrade(env, "/stream/bulk", "x-echo")
    expect(head.startswith(b"HTTP/1.1 101 "), "101: %r" % head)
    s.settimeout(20)
    # our two buffers fixed small, and the stream longer than what the
    # other six can hold (path_buffers): the proxy's part is what the
    # test is about
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 << 10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 128 << 10)
    sent = [0]
    errors = []

    def writer():
        try:
            while sent[0] < total:
                s.sendall(block)
                sent[0] += len(block)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got = len(rest)
    h = hashlib.sha256(rest)
    peak = rss0
    stalled_sent = None
    deadline = time.monotonic() + 120
    while got < total and time.monotonic() < deadline:
        d = s.recv(65536)
        if not d:
            break
        h.update(d)
        got += len(d)
        if got < 4 << 20:
            continue
        if stalled_sent is None:
            # the reader stops for a while: everything in between fills
            # (the kernel's socket buffers hold most of it) and the
            # writer must stop too, short of the total
            # (under a sanitizer on a loaded box the path can take
            # longer than 1.5 s to fill: look again every 0.5 s, up to
            # 10 s, for the writer to have stopped)
            time.sleep(1.5)
            prev = sent[0]
            for _ in range(20):
                time.sleep(0.5)
                now = sent[0]
                if now - prev <= 1 << 20:
                    break
                prev = now
            stalled_sent = (prev, now)
        time.sleep(0.002)       # then a slow reader, ~30 MB/s at most
        if got % (8 << 20) < 65536:
            peak = max(peak, worker_rss_kb(p))
    t.join(10)
    tail = s.recv(1)
    s.close()
    eq((errors, got), ([], total), "bytes echoed back through the tunnel")
    want = hashlib.sha256()
    for _ in range(total // len(block)):
        want.update(block)
    eq(h.hexdigest(), want.hexdigest(), "echoed bytes, in order")
    eq(tail, b"", "our end of stream came back after the last byte")
    # held back: short of the total, and (give or take what the kernel
    # frees by compacting full receive queues) no longer moving
    expect(stalled_sent[1] < total and
           stalled_sent[1] - stalled_sent[0] <= 1 << 20,
           "the writer was not held back while the reader stopped: "
           "%d then %d bytes sent of %d" % (stalled_sent + (total,)))
    expect(peak - rss0 < 8192, "worker RSS grew %d KiB (from %d)" %
           (peak - rss0, rss0))
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_active"), 0), 0,
       "upgrades_active after the transfer")


def test_idle_timeout_and_half_close(env):
    start(env)
    # /idle/ has idle_timeout: 1s; bytes keep it alive, silence ends it
    s, head, _ = raw_upgrade(env, "/idle/x", "x-echo")
    expect(head.startswith(b"HTTP/1.1 101 "), "101: %r" % head)
    for i in range(3):
        time.sleep(0.5)
        s.sendall(b"tick%d" % i)
        eq(read_n(s, 5), b"tick%d" % i, "echo %d" % i)
    t0 = time.monotonic()
    s.settimeout(5)
    eq(s.recv(100), b"", "tunnel closed by the idle timeout")
    waited = time.monotonic() - t0
    expect(0.8 < waited < 3.5, "closed after %.2f s, want ~1 s" % waited)
    s.close()
    eq(settle(lambda: env.stat(P + "downstream_rq_idle_timeout"), 1), 1,
       "downstream_rq_idle_timeout")
    # half-close: our end goes to the backend after our last byte; the
    # echo of it still comes back, then the backend's end
    s, head, _ = raw_upgrade(env, "/stream/half", "x-echo")
    expect(head.startswith(b"HTTP/1.1 101 "), "101: %r" % head)
    s.sendall(b"last words")
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    eq(read_n(s, 10), b"last words", "echo after our FIN")
    eq(s.recv(10), b"", "then the end")
    s.close()
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_active"), 0), 0,
       "upgrades_active")


def test_split_90_10_over_upgrades(env):
    start(env)
    seen = {}
    for _ in range(100):
        ws = WS(env, path="/live")
        eq(ws.status, 101, "handshake")
        v = ws.headers.get("x-backend")
        seen[v] = seen.get(v, 0) + 1
        ws.send(b"x")
        eq(ws.recv(), (True, 1, b"x"), "echo from %s" % v)
        ws.close()
    eq(seen, {"v1": 90, "v2": 10}, "versions that answered 100 upgrades")
    st = settle(lambda: (env.stat("cluster.service_v1.upstream_rq_101"),
                         env.stat("cluster.service_v2.upstream_rq_101")),
                (90, 10))
    eq(st, (90, 10), "upstream_rq_101 per version")
    eq(settle(lambda: env.stat(P + "downstream_cx_upgrades_total"), 100),
       100, "downstream_cx_upgrades_total")


def test_structural_reload_keeps_an_open_tunnel(env):
    p = start(env)
    cfg = env.logdir + "/canaryd.yaml"
    old = sorted(wait_until(lambda: len(p.workers()) == 2 and p.workers(),
                            3, "2 workers"))
    ws = WS(env, path="/live")
    eq(ws.status, 101, "handshake")
    ws.send(b"before")
    eq(ws.recv(), (True, 1, b"before"), "echo before the reload")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace('- match: { prefix: "/no-ws" }',
                             '- match: { prefix: "/added" }\n'
                             '                route: { cluster: '
                             'service_v1 }\n'
                             '              - match: { prefix: "/no-ws" }',
                             1))
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: env.stat("server.config_reload"), 1, timeout=5), 1,
       "server.config_reload")
    new = wait_until(lambda: len(set(p.workers()) - set(old)) >= 2 and
                     p.workers(), 5, "the new generation")
    eq(env.get("/added/x").status, 200, "new route served")
    ws.send(b"after")
    eq(ws.recv(), (True, 1, b"after"), "the tunnel still echoes")
    expect(set(old) & set(new), "the old generation is gone with a tunnel "
           "open: %r -> %r" % (old, new))
    ws.send(struct.pack("!H", 1000), op=0x8)
    eq(ws.recv()[1], 0x8, "close echoed")
    ws.close()
    wait_until(lambda: not (set(old) & set(p.workers())), 5,
               "the old generation to finish once its tunnel closed")


def test_upgrade_config_errors_name_their_place(env):
    cfg = env.write_config(BAD_UPGRADES, name="bad-upgrades.yaml")
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            cfg])
    eq(st, 1, "validate exit status")
    lines = [ln for ln in err.splitlines() if ": error: " in ln]
    want = [
        (14, 'upgrade_configs[1]: upgrade_type "WebSocket" is listed '
         'twice (upgrade_configs[0] has it, case aside); keep one entry'),
        (15, "upgrade_configs[2]: upgrade_type CONNECT: canaryd does not "
         "proxy CONNECT"),
        (18, "upgrade_configs[3].filters[0].typed_config: http filter "
         "envoy.filters.http.buffer is not supported by canaryd"),
        (30, "upgrade_configs[0].connect_config: not supported by canaryd: "
         "canaryd does not proxy CONNECT; remove it"),
    ]
    eq(len(lines), len(want), "errors:\n" + err)
    for (line, text), got in zip(want, lines):
        expect(got.startswith("%s:%d:" % (cfg, line)) and text in got,
               "want line %d with %r, got %r" % (line, text, got))


BAD_UPGRADES = """\
static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address: { address: 127.0.0.1, port_value: {proxy_port} }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          upgrade_configs:
          - upgrade_type: websocket
          - upgrade_type: WebSocket
          - upgrade_type: CONNECT
          - upgrade_type: x-custom
            filters:
            - name: envoy.filters.http.buffer
          route_config:
            name: local_route
            virtual_hosts:
            - name: local_service
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: service
                  upgrade_configs:
                  - upgrade_type: websocket
                    connect_config: {}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: service
    type: STATIC
    load_assignment:
      cluster_name: service
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: {v1_port} }
"""


def test_drain_time_ends_an_old_generations_tunnel(env):
    env.start_backends()
    cfg = env.file_config(os.path.join(DOCS, "websocket.yaml"))
    p = env.start_canaryd(cfg, concurrency=1, args=("--drain-time-s", "2"))
    ws = WS(env, path="/live")
    eq(ws.status, 101, "handshake")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("prefix: \"/no-ws\"", "prefix: \"/no-ws2\"", 1))
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: env.stat("server.config_reload"), 1, timeout=5), 1,
       "server.config_reload")
    ws.send(b"still here")
    eq(ws.recv(), (True, 1, b"still here"), "echo while draining")
    expect(ws.at_eof(timeout=6), "tunnel still open after the drain time")
    waited = time.monotonic() - t0
    expect(1.5 < waited < 6, "tunnel ended %.1f s after the reload, want "
           "about --drain-time-s 2" % waited)
    ws.close()
    eq(env.get("/api").status, 200, "the new generation serves")
