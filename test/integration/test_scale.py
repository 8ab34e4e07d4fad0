"""Scale: many connections with requests in flight, and large bodies.

2,000 client connections each hold a request that the backend answers
after 3 s, so all 2,000 (and 2,000 upstream connections) are open and in
flight at once: every answer is a 200 and the backend saw all of them at
once.  A 256 MiB response and a 256 MiB chunked upload pass through whole
while no worker's RSS grows by 32 MiB: bodies stream, they are not
gathered.  The full-size runs (10,000 connections, 1 GiB) are `make bench`'s
(tools/bench/scale.sh); these are the short, bounded versions.
"""

import http.client
import os
import subprocess
import sys
import threading
import time

import configs
from itestlib import REPO, eq, expect, parse_stats

SERIAL = True   # load: runs alone

INFLIGHT = os.path.join(REPO, "tools", "bench", "inflight.py")
MIB = 1 << 20
BODY = 256 * MIB
RSS_GROWTH_MAX_KB = 32 * 1024

# One route to v1; Envoy's circuit breakers default to 1,024 connections,
# pending and active requests a cluster, so a config that means to hold
# thousands at once raises them, as Envoy's own docs show.  timeout: 0s
# turns the 15 s route timeout off for long transfers.
CONFIG = configs.HEAD + """\
            - name: app
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route:
                  cluster: backend_v1
                  timeout: 0s
""" + configs.TAIL.replace("""\
  - name: backend_v1
    type: STATIC
    connect_timeout: 1s
""", """\
  - name: backend_v1
    type: STATIC
    connect_timeout: 5s
    circuit_breakers:
      thresholds:
      - priority: DEFAULT
        max_connections: 10000
        max_pending_requests: 10000
        max_requests: 10000
""")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssWatch:
    """The largest VmRSS growth of any of pids, sampled every 50 ms."""

    def __init__(self, pids):
        self.pids = pids
        self.base = {p: rss_kb(p) for p in pids}
        self.growth = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop.is_set():
            for p in self.pids:
                self.growth = max(self.growth, rss_kb(p) - self.base[p])
            self.stop.wait(0.05)

    def done(self):
        self.stop.set()
        self.t.join()
        return self.growth


def test_2000_connections_in_flight(env):
    be = env.start_backend("v1", args=["--delay_ms", "3000"])
    p = env.start_canaryd(env.write_config(CONFIG), concurrency=2)
    out = subprocess.run(
        [sys.executable, INFLIGHT, "--port", str(env.proxy_port),
         "--conns", "2000", "--procs", "2", "--seconds", "1",
         "--timeout", "10", "--pids", str(p.popen.pid)],
        capture_output=True, text=True, timeout=60)
    res = dict(f.split("=", 1) for f in out.stdout.split())
    expect(out.returncode == 0 and res.get("errors") == "0",
           "errors with 2,000 connections in flight: %s %s" %
           (out.stdout, out.stderr[-2000:]))
    eq(res["opened"], "2000", "connections opened")
    expect(int(res["requests"]) >= 2000, "requests answered: %s" %
           out.stdout)
    st = be.stats()
    expect(st["max_active"] >= 2000, "backend held %d requests at once, "
           "not all 2,000: %s" % (st["max_active"], st))
    stats = parse_stats(env.get("/stats", port=env.admin_port).text)
    eq(stats.get("http.ingress.downstream_rq_5xx"), 0, "5xx answers")
    eq(stats.get("cluster.backend_v1.upstream_cx_connect_fail"), 0,
       "upstream connect failures")
    print("  2000 in flight: %s" % out.stdout.strip())


test_2000_connections_in_flight.timeout = 90


def test_256mib_response_and_chunked_upload_stream(env):
    env.start_backend("v1")
    p = env.start_canaryd(env.write_config(CONFIG), concurrency=1)
    workers = p.workers()
    expect(len(workers) == 1, "one worker, got %r" % workers)

    # the response: read and count every byte, check the last ones
    watch = RssWatch(workers)
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", env.proxy_port, timeout=20)
    c.request("GET", "/bytes/%d" % BODY)
    r = c.getresponse()
    eq(r.status, 200, "GET /bytes/%d" % BODY)
    got, buf, tail = 0, bytearray(MIB), b""
    while True:
        n = r.readinto(buf)
        if n == 0:
            break
        got += n
        tail = bytes(buf[max(0, n - 89):n])
    c.close()
    dt_get = time.monotonic() - t0
    grow_get = watch.done()
    eq(got, BODY, "response bytes through canaryd")
    want_tail = bytes(33 + i % 89 for i in range(BODY - len(tail), BODY))
    eq(tail, want_tail, "the response's last bytes")

    # the upload: chunked (no content-length), 64 KiB chunks as curl sends
    watch = RssWatch(workers)
    t0 = time.monotonic()
    chunk = b"u" * (64 << 10)

    def body():
        for _ in range(BODY // len(chunk)):
            yield chunk
    c = http.client.HTTPConnection("127.0.0.1", env.proxy_port, timeout=20)
    c.request("POST", "/upload", body=body(), encode_chunked=True,
              headers={"Transfer-Encoding": "chunked",
                       "Content-Type": "application/octet-stream"})
    r = c.getresponse()
    r.read()
    c.close()
    dt_post = time.monotonic() - t0
    grow_post = watch.done()
    eq(r.status, 200, "chunked POST of %d bytes" % BODY)
    eq(r.getheader("x-body-bytes"), str(BODY), "body bytes the backend got")

    print("  256 MiB GET %.2fs (%.0f MB/s) worker RSS +%d KiB; chunked "
          "POST %.2fs (%.0f MB/s) +%d KiB" % (dt_get, BODY / dt_get / 1e6,
          grow_get, dt_post, BODY / dt_post / 1e6, grow_post))
    expect(grow_get < RSS_GROWTH_MAX_KB, "worker RSS grew %d KiB during a "
           "256 MiB response" % grow_get)
    expect(grow_post < RSS_GROWTH_MAX_KB, "worker RSS grew %d KiB during a "
           "256 MiB chunked upload" % grow_post)


test_256mib_response_and_chunked_upload_stream.timeout = 60
