"""Request smuggling and framing, byte-exact (canaryd-envoy(7), HTTP/1.1).

Raw sockets send what http.client never would; the backend runs with
--record, so each case can assert exactly which bytes reached it.  For
every malformed request: canaryd answers the status Envoy uses and closes
the connection (or, where the issue allows it, normalises the request in
an RFC-legal way), the backend never sees the request smuggled behind it
(always GET /smuggled), and a fresh normal request afterwards gets 200.
Upstream side: a backend answering garbage, both framings, a truncated
body or an unsolicited extra response yields a 502 or a closed client
connection, never a silently wrong 200 on a kept-alive connection, and
that upstream connection is not reused.

Every case of a test runs even when an earlier one fails; the test then
fails listing each failing case, so one run shows the whole picture.
"""

import os
import time

import configs
from itestlib import V1_BODY, TestFailure, eq, expect

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
CASE_TIMEOUT = 3.0      # seconds for canaryd to answer and close


class Recorder:
    """The backend's --record file, read from where the last look ended."""

    def __init__(self, path):
        self.path = path
        self.off = 0

    def new(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            data = b""
        self.off += len(data)
        return data


def start(env, args=()):
    rec = Recorder(os.path.join(env.logdir, "record.raw"))
    v1 = env.start_backend("v1", args=["--record", rec.path] + list(args))
    env.start_canaryd(env.write_config(configs.ALL_TO_V1), concurrency=1)
    return v1, rec


def exchange(env, data):
    """Send data on a new connection; everything received until the
    server closes (or CASE_TIMEOUT), and whether it closed."""
    c = env.raw(timeout=CASE_TIMEOUT)
    try:
        c.send(data)
        return c.read_until_close()
    finally:
        c.close()


def status_of(resp):
    line = resp.split(b"\r\n", 1)[0].split(b" ")
    if len(line) < 2 or not line[0].startswith(b"HTTP/1."):
        return None
    try:
        return int(line[1])
    except ValueError:
        return None


def fresh_ok(env, rec, tag):
    """A normal request on a new connection must get 200 from v1; returns
    the bytes the backend recorded up to and including it."""
    path = "/after-" + tag
    r = env.get(path)
    eq((r.status, r.body), (200, V1_BODY), "fresh GET %s" % path)
    got = b""
    # the backend writes the record before it answers, but check twice
    for _ in range(20):
        got += rec.new()
        if path.encode() in got:
            break
        time.sleep(0.05)
    expect(path.encode() in got, "backend did not record %s" % path)
    return got


def run_cases(env, rec, cases):
    """cases: (name, bytes, statuses allowed, normalised-check or None).
    A case passes when canaryd itself answers one of the statuses and
    closes, the backend seeing nothing; or (when a check is given and 200
    is allowed) canaryd forwards what the check accepts, and the GET
    /smuggled behind it as a separate request of its own.  The fresh request
    of each case also marks where its part of the record file ends, so a
    failing case never blames the next one."""
    failed = []
    for name, data, allowed, check in cases:
        try:
            resp, closed = exchange(env, data)
        except OSError as e:
            resp, closed = b"", True
            failed.append("%s: %s" % (name, e))
        try:
            seen = fresh_ok(env, rec, name)
        except (TestFailure, OSError) as e:
            failed.append("%s: %s" % (name, e))
            continue
        try:
            st = status_of(resp)
            expect(st in allowed, "status %r, want one of %s; got %r" %
                   (st, sorted(allowed), resp[:200]))
            if st != 200:
                expect(b"\r\nx-backend:" not in resp.split(b"\r\n\r\n")[0],
                       "the %d came from the backend: canaryd forwarded "
                       "it: %r" % (st, seen[:300]))
                expect(closed, "connection left open after %d" % st)
                eq(resp.count(b"HTTP/1.1 "), 1, "responses on the connection")
                # rejected: the backend got nothing but the fresh request
                expect(seen.startswith(b"GET /after-"),
                       "backend saw %r before the fresh request" %
                       seen[:300])
            else:
                expect(check is not None, "no 200 expected")
                check(seen)
                # accepted: what followed is a pipelined request of the
                # client's, and must reach the backend as one canaryd
                # parsed and rewrote, not as raw bytes inside another
                eq(resp.count(b"HTTP/1.1 200"), 2, "responses (the "
                   "request and the pipelined GET /smuggled)")
                i = seen.find(b"GET /smuggled HTTP/1.1\r\n")
                expect(i >= 0 and b"x-envoy-expected-rq-timeout-ms" in
                       seen[i:seen.find(b"\r\n\r\n", i)],
                       "GET /smuggled not forwarded as its own request: "
                       "%r" % seen[:400])
        except TestFailure as e:
            failed.append("%s: %s" % (name, e))
    if failed:
        raise TestFailure("%d of %d cases failed:\n  %s" %
                          (len(failed), len(cases), "\n  ".join(failed)))


def post(headers, body):
    return (b"POST /p HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n" + body)


def test_request_framing_conflicts_are_rejected(env):
    _, rec = start(env)
    chunk0 = b"0\r\n\r\n" + SMUGGLED
    cases = [
        ("cl-te", post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                       chunk0), {400}, None),
        ("te-cl", post(b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n",
                       chunk0), {400}, None),
        ("two-cl", post(b"Content-Length: 0\r\nContent-Length: 36\r\n",
                        SMUGGLED), {400}, None),
        ("cl-list", post(b"Content-Length: 0, 36\r\n", SMUGGLED), {400},
         None),
        ("cl-plus", post(b"Content-Length: +36\r\n", SMUGGLED), {400}, None),
        ("cl-minus", post(b"Content-Length: -1\r\n", SMUGGLED), {400}, None),
        ("cl-hex", post(b"Content-Length: 0x24\r\n", SMUGGLED), {400}, None),
        ("cl-inner-space", post(b"Content-Length: 3 6\r\n", SMUGGLED), {400},
         None),
        ("cl-overflow", post(b"Content-Length: 184467440737095516160\r\n",
                             SMUGGLED), {400}, None),
        ("te-gzip-chunked", post(b"Transfer-Encoding: gzip, chunked\r\n",
                                 chunk0), {400, 501}, None),
        ("te-chunked-gzip", post(b"Transfer-Encoding: chunked, gzip\r\n",
                                 chunk0), {400, 501}, None),
        ("te-identity", post(b"Transfer-Encoding: identity\r\n", SMUGGLED),
         {400, 501}, None),
        ("te-twice", post(b"Transfer-Encoding: chunked\r\n"
                          b"Transfer-Encoding: chunked\r\n", chunk0),
         {400, 501}, None),
        ("te-xchunked", post(b"Transfer-Encoding: xchunked\r\n", chunk0),
         {400, 501}, None),
        ("te-space-colon", post(b"Transfer-Encoding : chunked\r\n", chunk0),
         {400}, None),
        ("cl-space-colon", post(b"Content-Length : 0\r\n", SMUGGLED), {400},
         None),
        ("te-http10", b"POST /p HTTP/1.0\r\nHost: t\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n" + chunk0, {400, 426, 501},
         None),
    ]
    run_cases(env, rec, cases)


def test_bad_bytes_in_heads_are_rejected(env):
    _, rec = start(env)
    get = b"GET /x HTTP/1.1\r\nHost: t\r\n"
    cases = [
        ("obs-fold", get + b"X-A: one\r\n two\r\n\r\n" + SMUGGLED, {400},
         None),
        ("obs-fold-te", b"POST /p HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
         b"identity\r\n chunked\r\n\r\n0\r\n\r\n" + SMUGGLED, {400, 501},
         None),
        # every obs-fold is a 400, an empty first part too (it used to
        # be read as if the continuation were the whole value)
        ("obs-fold-empty", get + b"X-A:\r\n two\r\n\r\n" + SMUGGLED, {400},
         None),
        ("obs-fold-blank", get + b"X-A:\r\n \r\nX-B: 1\r\n\r\n" + SMUGGLED,
         {400}, None),
        ("obs-fold-cl", b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n"
         b" 5\r\n\r\nhello" + SMUGGLED, {400}, None),
        ("bare-cr-value", get + b"X-A: a\rb\r\n\r\n" + SMUGGLED, {400}, None),
        ("bare-cr-line", get + b"X-A: a\r\rX-B: b\r\n\r\n" + SMUGGLED, {400},
         None),
        ("nul-value", get + b"X-A: a\x00b\r\n\r\n" + SMUGGLED, {400}, None),
        ("nul-first", get + b"X-A: \x00\r\n\r\n" + SMUGGLED, {400}, None),
        ("ctl-value", get + b"X-A: a\x01b\r\n\r\n" + SMUGGLED, {400}, None),
        ("del-value", get + b"X-A: a\x7fb\r\n\r\n" + SMUGGLED, {400}, None),
        ("esc-value", get + b"X-A: \x1b[31m\r\n\r\n" + SMUGGLED, {400}, None),
        ("nul-name", get + b"X-\x00A: b\r\n\r\n" + SMUGGLED, {400}, None),
        ("ctl-name", get + b"X-\x01A: b\r\n\r\n" + SMUGGLED, {400}, None),
        ("space-name", get + b"X A: b\r\n\r\n" + SMUGGLED, {400}, None),
        ("tab-name", get + b"X-A\t: b\r\n\r\n" + SMUGGLED, {400}, None),
        ("ctl-target", b"GET /a\x01b HTTP/1.1\r\nHost: t\r\n\r\n" + SMUGGLED,
         {400}, None),
        ("nul-target", b"GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n" + SMUGGLED,
         {400}, None),
        ("lf-in-host", b"GET / HTTP/1.1\r\nHost: t\nX: y\r\n\r\n" + SMUGGLED,
         {400, 200}, crlf_only(b"GET / HTTP/1.1\r\n")),
        ("bare-lf", b"GET /lf HTTP/1.1\nHost: t\nX-A: b\n\n" + SMUGGLED,
         {400, 200}, crlf_only(b"GET /lf HTTP/1.1\r\n")),
    ]
    run_cases(env, rec, cases)


def crlf_only(first_line):
    """For a request canaryd normalised: the backend saw it starting with
    first_line, every line ending in CRLF, and nothing smuggled."""
    def check(seen):
        i = seen.find(first_line)
        expect(i >= 0, "backend never saw %r: %r" % (first_line, seen[:300]))
        head = seen[i:seen.index(b"\r\n\r\n", i) + 4]
        expect(b"\n" not in head.replace(b"\r\n", b""),
               "bare LF forwarded upstream: %r" % head)
        expect(b"\r" not in head.replace(b"\r\n", b""),
               "bare CR forwarded upstream: %r" % head)
    return check


def chunked_post(chunks):
    return (b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n" + chunks)


def test_bad_chunk_framing_is_rejected(env):
    _, rec = start(env)
    tail = b"\r\nhello\r\n0\r\n\r\n" + SMUGGLED
    cases = [
        ("chunk-plus", chunked_post(b"+5" + tail), {400}, None),
        ("chunk-0x", chunked_post(b"0x5" + tail), {400}, None),
        ("chunk-minus", chunked_post(b"-5" + tail), {400}, None),
        ("chunk-17-digits", chunked_post(b"00000000000000005" + tail), {400},
         None),
        ("chunk-overflow", chunked_post(b"10000000000000005" + tail), {400},
         None),
        ("chunk-space-size", chunked_post(b"5 5" + tail), {400}, None),
        ("chunk-empty-size", chunked_post(b"\r\nhello\r\n0\r\n\r\n" +
                                          SMUGGLED), {400}, None),
        ("chunk-ext-nul", chunked_post(b"5;a=\x00" + tail), {400}, None),
        ("chunk-ext-ctl", chunked_post(b"5;a\x01" + tail), {400}, None),
        ("chunk-ext-bare-lf", chunked_post(b"5;a\nhello\r\n0\r\n\r\n" +
                                           SMUGGLED), {400}, None),
        ("chunk-size-bare-lf", chunked_post(b"5\nhello\r\n0\r\n\r\n" +
                                            SMUGGLED), {400}, None),
        ("chunk-data-no-crlf", chunked_post(b"5\r\nhelloXX0\r\n\r\n" +
                                            SMUGGLED), {400}, None),
        ("chunk-last-no-crlf", chunked_post(b"5\r\nhello\r\n0\r\n" +
                                            SMUGGLED), {400}, None),
    ]
    run_cases(env, rec, cases)


def test_good_chunked_body_is_forwarded_exactly(env):
    # the control for the cases above: a legal chunked body with an
    # extension and a trailer gets through, with the same framing
    _, rec = start(env)
    body = b"5;name=value\r\nhello\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\n"
    resp, closed = exchange(env, chunked_post(body) +
                            b"GET /next HTTP/1.1\r\nHost: t\r\n"
                            b"Connection: close\r\n\r\n")
    eq(status_of(resp), 200, "chunked POST: %r" % resp[:200])
    eq(resp.count(b"HTTP/1.1 200"), 2, "two pipelined responses")
    seen = fresh_ok(env, rec, "good-chunked")
    i = seen.find(b"POST /c HTTP/1.1\r\n")
    expect(i >= 0, "POST not recorded: %r" % seen[:300])
    head_end = seen.index(b"\r\n\r\n", i) + 4
    head = seen[i:head_end].lower()
    expect(b"transfer-encoding: chunked\r\n" in head and
           b"content-length" not in head, "upstream head %r" % head)
    expect(seen[head_end:].startswith(b"5;name=value\r\nhello\r\n3\r\nabc\r\n"
                                      b"0\r\n"),
           "body forwarded as %r" % seen[head_end:head_end + 80])
    expect(b"GET /next HTTP/1.1\r\n" in seen, "pipelined GET not forwarded")


def test_upgrade_and_expect(env):
    _, rec = start(env)
    # h2c: Envoy's codec drops the upgrade and serves a plain request;
    # the upgrade is never forwarded, and the connection stays HTTP
    resp, closed = exchange(env, b"GET /u HTTP/1.1\r\nHost: t\r\n"
                            b"Connection: Upgrade, HTTP2-Settings\r\n"
                            b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__"
                            b"\r\n\r\n" + SMUGGLED)
    st = status_of(resp)
    seen = fresh_ok(env, rec, "h2c")
    if st == 200:
        i = seen.find(b"GET /u HTTP/1.1\r\n")
        head = seen[i:seen.index(b"\r\n\r\n", i)].lower()
        expect(b"upgrade" not in head and b"http2-settings" not in head,
               "h2c upgrade forwarded: %r" % head)
    else:
        expect(st in (400, 403), "h2c upgrade status %r" % st)
        expect(seen.startswith(b"GET /after-"),
               "refused upgrade, yet the backend saw %r" % seen[:300])

    # Expect: 100-continue: canaryd answers 100 itself, the backend gets
    # no expect header, then the body
    c = env.raw(timeout=CASE_TIMEOUT)
    try:
        c.send(b"POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"Content-Length: 5\r\n\r\n")
        interim = c.read_response()
        eq(interim.status, 100, "interim status")
        c.send(b"hello")
        r = c.read_response()
        eq((r.status, r.header("x-body-bytes")), (200, "5"), "final")
    finally:
        c.close()
    seen = fresh_ok(env, rec, "expect")
    i = seen.find(b"POST /e HTTP/1.1\r\n")
    expect(i >= 0, "POST /e not recorded")
    head_end = seen.index(b"\r\n\r\n", i) + 4
    expect(b"\r\nexpect:" not in seen[i:head_end].lower(),
           "expect forwarded: %r" % seen[i:head_end])
    eq(seen[head_end:head_end + 5], b"hello", "body after the head")


# ---------------------------------------------------------------- upstream

def upstream_case(env, v1, rec, name, switches, want):
    """The backend misbehaves per switches: a keep-alive client gets a
    status in want (a 502) or sees its connection closed; never a 200
    carrying what the backend smuggled.  Then, with the backend fixed,
    two requests on one client connection get clean 200s, so the broken
    upstream connection was not handed to anyone."""
    v1.ctl(**switches)
    c = env.raw(timeout=CASE_TIMEOUT)
    try:
        c.send(b"GET /api HTTP/1.1\r\nHost: t\r\n\r\n")
        data, closed = c.read_until_close()
    finally:
        c.close()
    v1.ctl(**{k: 0 for k in switches})
    st = status_of(data)
    expect(b"smuggled" not in data, "%s: client got %r" % (name, data[:300]))
    if st == 200:
        # a 200 head was already sent: the client must see the cut
        expect(closed, "%s: 200 and the connection kept open: %r" %
               (name, data[:300]))
    else:
        expect(st in want, "%s: status %r, want %s: %r" %
               (name, st, sorted(want), data[:300]))
    c = env.raw(timeout=CASE_TIMEOUT)
    try:
        for i in range(2):
            c.send(b"GET /next%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
            r = c.read_response()
            eq((r.status, r.body), (200, V1_BODY),
               "%s: request %d after the fix" % (name, i))
    finally:
        c.close()


def test_broken_upstream_responses(env):
    v1, rec = start(env)
    failed = []
    for name, switches, want in (
            ("garbage", {"garbage": 1}, {502}),
            ("cl-te", {"frame": 1}, {502}),
            ("truncated", {"close_after_headers": 1}, {502}),
            ("truncated-chunked", {"close_after_headers": 1, "chunked": 1},
             {502}),
    ):
        try:
            upstream_case(env, v1, rec, name, switches, want)
        except (TestFailure, OSError) as e:
            failed.append(str(e))
    if failed:
        raise TestFailure("%d upstream cases failed:\n  %s" %
                          (len(failed), "\n  ".join(failed)))


def test_extra_upstream_response_is_never_delivered(env):
    # the backend appends an unsolicited response after each answer: if
    # canaryd pooled that connection, the next request would get it
    v1, _ = start(env, args=["--frame", "2"])
    c = env.raw(timeout=CASE_TIMEOUT)
    try:
        for i in range(4):
            c.send(b"GET /k%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
            r = c.read_response()
            eq((r.status, r.body), (200, V1_BODY), "request %d" % i)
    finally:
        c.close()
