"""A mix of HTTP/1.1 clients for the reload and stop tests, on raw sockets.

Each client runs in its own thread until told to stop, or until its
connection attempt is refused after the proxy stopped.  Every request ends
in exactly one outcome, counted in a Tally:

    ok          a complete 2xx response
    non2xx      a complete response with another status
    lost        no complete response: EOF, reset or timeout on a connection
                that had accepted the request (the failure the tests hunt)
    refused     a new connection refused (the proxy no longer listens):
                allowed only after the proxy was told to stop

Clients never retry: a request a real client would have to resend counts
as lost.  A response with "connection: close" closes the connection; the
client's next request opens a new one, as any HTTP/1.1 client does.
"""

import errno
import socket
import threading
import time

CRLF = b"\r\n"


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {"ok": 0, "non2xx": 0, "lost": 0, "refused": 0}
        self.why = []           # (kind, reason), the first 20 lost/non2xx
        self.closes = 0         # responses that carried connection: close

    def add(self, outcome, kind, reason=""):
        with self.lock:
            self.n[outcome] += 1
            if outcome in ("lost", "non2xx") and len(self.why) < 20:
                self.why.append((kind, outcome, reason))

    def summary(self):
        with self.lock:
            return dict(self.n, closes=self.closes)


class Lost(Exception):
    pass


class Conn:
    """One client connection with a read buffer and a response reader."""

    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def send(self, data):
        try:
            self.s.sendall(data)
        except OSError as e:
            raise Lost("send: %s" % e)

    def _fill(self):
        try:
            b = self.s.recv(65536)
        except socket.timeout:
            raise Lost("timeout")
        except OSError as e:
            raise Lost("recv: %s" % e)
        if not b:
            raise Lost("EOF after %d buffered bytes" % len(self.buf))
        self.buf += b

    def _line(self):
        while CRLF not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(CRLF, 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, head_request=False):
        """(status, {name: value}, body_len, close) of one response."""
        while CRLF + CRLF not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(CRLF + CRLF, 1)
        lines = head.split(CRLF)
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise Lost("bad status line %r" % lines[0][:60])
        status = int(parts[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hdrs[k.strip().lower().decode()] = v.strip().decode("latin-1")
        close = "close" in hdrs.get("connection", "").lower()
        n = 0
        if head_request or status in (204, 304) or status < 200:
            pass
        elif "chunked" in hdrs.get("transfer-encoding", ""):
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                n += len(self._take(size))
                self._take(2)
        elif "content-length" in hdrs:
            n = len(self._take(int(hdrs["content-length"])))
        else:
            try:
                while True:
                    self._fill()
            except Lost:
                n = len(self.buf)
                self.buf = b""
            close = True
        return status, hdrs, n, close


def get(path, extra=b""):
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra
            + b"\r\n")


class Client(threading.Thread):
    """Base: run() calls one() until stop; one() does one exchange."""

    kind = "client"

    def __init__(self, port, tally, stop, stopping, timeout=15.0):
        super().__init__(daemon=True)
        self.port, self.tally = port, tally
        self.stop_ev, self.stopping = stop, stopping
        self.timeout = timeout
        self.conn = None
        self.done = 0
        self.gone = False       # refused after the stop: nothing to do

    def connect(self):
        if self.conn is None:
            try:
                self.conn = Conn(self.port, self.timeout)
            except OSError as e:
                if e.errno == errno.ECONNREFUSED and self.stopping.is_set():
                    self.tally.add("refused", self.kind)
                    self.gone = True
                    return False
                self.tally.add("lost", self.kind, "connect: %s" % e)
                time.sleep(0.05)
                return False
        return True

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def finish(self, status, close):
        self.tally.add("ok" if 200 <= status < 300 else "non2xx",
                       self.kind, "status %d" % status)
        if close:
            with self.tally.lock:
                self.tally.closes += 1
            self.drop()
        self.done += 1

    def run(self):
        while not self.stop_ev.is_set() and not self.gone:
            if not self.connect():
                continue
            try:
                self.one()
            except Lost as e:
                self.tally.add("lost", self.kind, str(e))
                self.drop()
        self.drop()


class KeepAlive(Client):
    """Sends its next request the moment the previous answer is read."""

    kind = "keepalive"

    def __init__(self, *a, path="/api", **kw):
        super().__init__(*a, **kw)
        self.path = path

    def one(self):
        self.conn.send(get(self.path))
        status, _, _, close = self.conn.response()
        self.finish(status, close)


class Pipeline(Client):
    """Keeps depth requests in flight on one connection."""

    kind = "pipeline"

    def __init__(self, *a, depth=2, **kw):
        super().__init__(*a, **kw)
        self.depth = depth

    def one(self):
        self.conn.send(get("/api") * self.depth)
        for i in range(self.depth):
            try:
                status, _, _, close = self.conn.response()
            except Lost:
                # the rest of the batch is lost with it
                for _ in range(self.depth - i - 1):
                    self.tally.add("lost", self.kind, "after an earlier "
                                   "loss in the batch")
                raise
            self.finish(status, close)
            if close:
                for _ in range(self.depth - i - 1):
                    self.tally.add("lost", self.kind, "connection: close "
                                   "with pipelined requests unanswered")
                return


class NewConn(Client):
    """A new connection for every request (connection: close)."""

    kind = "newconn"

    def one(self):
        self.conn.send(get("/api", b"Connection: close\r\n"))
        status, _, _, close = self.conn.response()
        self.finish(status, True)
        time.sleep(0.01)


class Upload(Client):
    """One chunked upload of size bytes at rate bytes/s, then stops."""

    kind = "upload"

    def __init__(self, *a, size=10 << 20, rate=1 << 20, path="/upload",
                 **kw):
        super().__init__(*a, **kw)
        self.size, self.rate, self.path = size, rate, path
        self.body_bytes = None

    def one(self):
        self.conn.send(b"POST " + self.path.encode() + b" HTTP/1.1\r\n"
                       b"Host: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = 64 << 10
        sent, t0 = 0, time.monotonic()
        while sent < self.size:
            n = min(chunk, self.size - sent)
            self.conn.send(b"%x\r\n" % n + b"u" * n + CRLF)
            sent += n
            ahead = sent / self.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        self.conn.send(b"0\r\n\r\n")
        status, hdrs, _, close = self.conn.response()
        self.body_bytes = int(hdrs.get("x-body-bytes", "-1"))
        self.finish(status, close)
        self.gone = True        # one upload only


def run_mix(clients, seconds, during=None, tick=0.05):
    """Start clients, call during(elapsed) every tick for seconds."""
    for c in clients:
        c.start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if during is not None:
            during(time.monotonic() - t0)
        time.sleep(tick)
