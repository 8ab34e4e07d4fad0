"""Limits and timeouts against hostile clients (canaryd-envoy(7), HTTP/1.1).

Envoy's defaults: request headers over max_request_headers_kb (60 KiB) or
more than max_headers_count (100) get 431 and the connection closed; an
over-long request line 414 or 431; all within a second and without the
worker's memory growing.  request_headers_timeout closes a slowloris
client that trickles its head, while a second client on the same (only)
worker keeps getting fast answers.
"""

import socket
import time

import configs
from itestlib import V1_BODY, TestFailure, eq, expect

FAST = 1.0      # seconds: a limit must answer within this


def start(env, cfg=configs.ALL_TO_V1):
    env.start_backend("v1")
    return env.start_canaryd(env.write_config(cfg), concurrency=1)


def status_of(resp):
    parts = resp.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1]) if parts[0].startswith(b"HTTP/1.") else None
    except (IndexError, ValueError):
        return None


def send_head(env, head, want, what):
    """Send head; the status must be in want, within FAST seconds, and
    for a rejection the connection must be closed."""
    c = env.raw(timeout=FAST + 2)
    t0 = time.monotonic()
    try:
        try:
            c.send(head)
        except (BrokenPipeError, ConnectionResetError):
            pass    # closed while we were still sending: read the answer
        data, closed = c.read_until_close(limit=1 << 20) if \
            want != {200} else (c.read_response().status, False)
    finally:
        c.close()
    dt = time.monotonic() - t0
    if want == {200}:
        eq(data, 200, what)
        return
    st = status_of(data)
    expect(st in want, "%s: status %r, want %s: %r" %
           (what, st, sorted(want), data[:160]))
    expect(b"\r\nx-backend:" not in data.split(b"\r\n\r\n")[0],
           "%s: the %r came from the backend: canaryd forwarded the "
           "request" % (what, st))
    expect(closed, "%s: connection not closed after %r" % (what, st))
    expect(dt < FAST, "%s: took %.2fs" % (what, dt))


def head_with(headers, target=b"/"):
    return b"GET " + target + b" HTTP/1.1\r\nHost: t\r\n" + \
        b"".join(headers) + b"\r\n"


def worker_rss_kb(env):
    pids = env.proxy.workers()
    expect(len(pids) == 1, "one worker, got %r" % pids)
    with open("/proc/%d/status" % pids[0]) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise TestFailure("no VmRSS for worker %d" % pids[0])


def test_header_limits_are_431(env):
    start(env)
    failed = []
    kib = b"x" * 1000
    cases = [
        # controls: at the limits, still served
        ("99 headers + host", head_with([b"x-h%d: v\r\n" % i
                                         for i in range(99)]), {200}),
        ("50 KiB of headers", head_with([b"x-h%d: %s\r\n" % (i, kib)
                                         for i in range(50)]), {200}),
        # over them
        ("101 headers", head_with([b"x-h%d: v\r\n" % i for i in range(100)]),
         {431}),
        ("1000 headers", head_with([b"x-h%d: v\r\n" % i
                                    for i in range(1000)]), {431}),
        ("61 KiB of headers", head_with([b"x-h%d: %s\r\n" % (i, kib * 2)
                                         for i in range(31)]), {431}),
        ("one 70 KiB header", head_with([b"x-big: " + b"y" * 70000 +
                                         b"\r\n"]), {431}),
        ("1 MiB of headers", head_with([b"x-h%d: %s\r\n" % (i, kib * 8)
                                        for i in range(128)]), {431}),
        ("70 KiB request line", head_with([], b"/" + b"a" * 70000),
         {414, 431}),
        ("200 KiB request line", head_with([], b"/" + b"a" * 200000),
         {414, 431}),
        ("70 KiB header name", head_with([b"x" * 70000 + b": v\r\n"]),
         {431}),
    ]
    for what, head, want in cases:
        try:
            send_head(env, head, want, what)
        except (TestFailure, OSError) as e:
            failed.append(str(e))
    try:
        r = env.get("/after")
        eq((r.status, r.body), (200, V1_BODY), "GET /after the limits")
    except (TestFailure, OSError) as e:
        failed.append(str(e))
    if failed:
        raise TestFailure("%d of %d cases failed:\n  %s" %
                          (len(failed), len(cases) + 1, "\n  ".join(failed)))


def test_oversized_heads_do_not_grow_memory(env):
    start(env)
    big = head_with([b"x-h%d: %s\r\n" % (i, b"z" * 2000) for i in range(40)])
    many = head_with([b"x-h%d: v\r\n" % i for i in range(200)])
    for i in range(20):     # warm up the buffer pools
        send_head(env, big if i % 2 else many, {431}, "warm-up %d" % i)
    before = worker_rss_kb(env)
    for i in range(200):
        send_head(env, big if i % 2 else many, {431}, "round %d" % i)
    after = worker_rss_kb(env)
    expect(after - before < 4096, "worker RSS grew from %d to %d KiB over "
           "200 oversized heads" % (before, after))
    r = env.get("/after")
    eq(r.status, 200, "GET /after")


SLOW_HEADERS = configs.ALL_TO_V1.replace(
    "          stat_prefix: ingress\n",
    "          stat_prefix: ingress\n"
    "          request_headers_timeout: 1s\n")


def test_slowloris_is_cut_and_others_stay_fast(env):
    expect(SLOW_HEADERS != configs.ALL_TO_V1, "template changed")
    start(env, SLOW_HEADERS)
    slow = socket.create_connection(("127.0.0.1", env.proxy_port),
                                    timeout=0.2)
    head = b"GET /slow HTTP/1.1\r\nHost: t\r\n" + \
        b"".join(b"x-drip-%d: %d\r\n" % (i, i) for i in range(100))
    t0 = time.monotonic()
    closed_at = None
    got = b""
    worst = 0.0
    sent = 0
    try:
        # trickle a byte every 50 ms for at most 4 s; between bytes, a
        # second client must keep getting answers fast from the same
        # worker
        for i in range(80):
            if closed_at is None:
                try:
                    slow.send(head[sent:sent + 1])
                    sent += 1
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic() - t0
            try:
                d = slow.recv(4096)
                if d:
                    got += d
                elif closed_at is None:
                    closed_at = time.monotonic() - t0
            except socket.timeout:
                pass
            except ConnectionResetError:
                if closed_at is None:
                    closed_at = time.monotonic() - t0
            if i % 4 == 0:
                t1 = time.monotonic()
                r = env.get("/fast%d" % i)
                worst = max(worst, time.monotonic() - t1)
                eq((r.status, r.body), (200, V1_BODY), "fast client %d" % i)
            if closed_at is not None and i >= 40:
                break
            time.sleep(0.05)
    finally:
        slow.close()
    expect(closed_at is not None, "slowloris client still connected after "
           "%.1fs (%d bytes sent)" % (time.monotonic() - t0, sent))
    expect(0.9 <= closed_at <= 2.5, "slowloris closed after %.2fs, want "
           "about 1s (request_headers_timeout)" % closed_at)
    st = status_of(got)
    expect(st in (None, 408), "slowloris got %r" % got[:120])
    expect(worst < 0.5, "a fast request took %.2fs meanwhile" % worst)


test_slowloris_is_cut_and_others_stay_fast.serial = True  # load: runs alone
