#!/usr/bin/env python3
"""A small fault-injecting TCP relay for tests (python3 standard library).

One listening port on 127.0.0.1, one upstream: every accepted connection
gets its own upstream connection and bytes are copied both ways, until a
test changes the weather at run time:

    cut()         close every open connection now (with a reset)
    refuse(on)    stop listening, so new connects are refused (on=True),
                  or listen again (on=False); open connections stay
    delay(ms)     hold each chunk ms milliseconds before forwarding it
                  (each direction: a round trip gains 2 x ms)
    partition()   accept, but forward nothing either way: bytes are held
                  and delivered after heal(), as TCP retransmission does
                  across a partition that ends (a write sent during the
                  partition lands late: what fencing must survive);
                  upstream connects of new connections wait for heal()
    blackhole()   like partition(), but held bytes are dropped: nothing
                  sent during it ever arrives
    heal()        back to normal: deliver what partition() held, listen
                  again, no delay

In a test, in-process:

    r = Relay(("127.0.0.1", 2379)).start()   # r.port is the listening port
    r.partition(); ...; r.heal(); r.stop()

As a subprocess: `tcprelay.py --upstream 127.0.0.1:2379 [--listen PORT]`
prints "listening PORT" on stdout, then reads one command a line on stdin
(cut, refuse, accept, delay MS, partition, blackhole, heal, stats, quit)
and answers each with one line ("ok", or the stats as JSON).  End of
stdin stops it.

Invariant: one thread owns every socket (a selector loop); the control
methods only queue a command for it and wait until it is applied, so a
method's effect is in place when it returns.
"""

import argparse
import json
import queue
import selectors
import socket
import struct
import sys
import threading
import time

LOOPBACK = "127.0.0.1"
CHUNK = 65536
HOLD_MAX = 16 << 20     # bytes held per direction before a connection is cut


class _Half:
    """One direction of a connection: from src to dst, with its queue of
    (due time, bytes) chunks not written yet."""

    def __init__(self, src, dst):
        self.src = src
        self.dst = dst
        self.q = []             # [(due, bytes)]
        self.held = 0
        self.eof = False        # src sent FIN: shut dst for writing after q
        self.shut = False


class _Conn:
    def __init__(self, client):
        self.client = client
        self.up = None
        self.connecting = False
        self.up_ok = False
        self.c2u = _Half(client, None)
        self.u2c = _Half(None, client)
        self.closed = False


class Relay:
    """The relay; see the module comment."""

    def __init__(self, upstream, port=0, host=LOOPBACK, name="relay",
                 logpath=None):
        """upstream: (host, port); port 0: any free one.  logpath: a
        file that gets one line per control call (for a test's logs)."""
        self.upstream = upstream
        self.host = host
        self.port = port
        self.name = name
        self.pid = 0            # listed beside processes; none of its own
        self.logpath = logpath
        self._log = open(logpath, "w") if logpath else None
        self._t0 = time.monotonic()
        self.mode = "normal"    # normal, partition, blackhole
        self.delay_s = 0.0
        self.refusing = False
        self.conns = []
        self.stats = {"accepted": 0, "cut": 0, "bytes_up": 0,
                      "bytes_down": 0, "dropped": 0}
        self._sel = selectors.DefaultSelector()
        self._lsock = None
        self._cmds = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._thread = None
        self._running = False

    # ---- control (any thread) ----------------------------------------

    def start(self):
        self._listen()
        self._sel.register(self._wake_r, selectors.EVENT_READ, ("wake",))
        self._running = True
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="tcprelay:%d" % self.port)
        self._thread.start()
        if self._log is not None:
            self._log.write("%8.3f listening on %d, upstream %s:%d\n" % (
                time.monotonic() - self._t0, self.port, self.upstream[0],
                self.upstream[1]))
            self._log.flush()
        return self

    def output(self):
        """What was done to the relay, one line each."""
        if not self.logpath:
            return ""
        with open(self.logpath) as f:
            return f.read()

    def _call(self, fn, *args):
        if not self._running:
            return None
        if self._log is not None and fn.__name__ != "_do_stats":
            self._log.write("%8.3f %s%s\n" % (time.monotonic() - self._t0,
                            fn.__name__[4:], "".join(" %s" % a
                                                     for a in args)))
            self._log.flush()
        done = threading.Event()
        box = []
        self._cmds.put((fn, args, done, box))
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if not done.wait(5.0):
            raise RuntimeError("tcprelay: command %s not applied in 5s"
                               % fn.__name__)
        return box[0] if box else None

    def cut(self):
        return self._call(self._do_cut)

    def refuse(self, on=True):
        return self._call(self._do_refuse, on)

    def delay(self, ms):
        return self._call(self._do_delay, ms)

    def partition(self):
        return self._call(self._do_mode, "partition")

    def blackhole(self):
        return self._call(self._do_mode, "blackhole")

    def heal(self):
        return self._call(self._do_heal)

    def counters(self):
        return self._call(self._do_stats)

    def stop(self):
        if not self._running:
            return
        self._call(self._do_stop)
        self._thread.join(5.0)
        self._wake_r.close()
        self._wake_w.close()
        if self._log is not None:
            self._log.close()

    # ---- the loop (relay thread only) ------------------------------------

    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        s.setblocking(False)
        self.port = s.getsockname()[1]
        self._lsock = s
        self._sel.register(s, selectors.EVENT_READ, ("listen",))

    def _unlisten(self):
        if self._lsock is not None:
            self._sel.unregister(self._lsock)
            self._lsock.close()
            self._lsock = None

    def _do_cut(self):
        for c in list(self.conns):
            self._close(c, reset=True)
            self.stats["cut"] += 1

    def _do_refuse(self, on):
        self.refusing = on
        if on:
            self._unlisten()
        elif self._lsock is None:
            self._listen()

    def _do_delay(self, ms):
        self.delay_s = max(0.0, float(ms) / 1000.0)

    def _do_mode(self, mode):
        self.mode = mode
        if mode == "blackhole":
            for c in self.conns:
                for h in (c.c2u, c.u2c):
                    self.stats["dropped"] += h.held
                    h.q, h.held = [], 0

    def _do_heal(self):
        self.mode = "normal"
        self.delay_s = 0.0
        if self.refusing:
            self._do_refuse(False)
        now = time.monotonic()
        for c in list(self.conns):
            for h in (c.c2u, c.u2c):
                h.q = [(now, b) for _, b in h.q]
            if c.up is None and not c.closed:
                self._connect_up(c)
            self._rearm(c)

    def _do_stats(self):
        s = dict(self.stats)
        s.update(open=len(self.conns), mode=self.mode,
                 delay_ms=int(self.delay_s * 1000), refusing=self.refusing,
                 port=self.port)
        return s

    def _do_stop(self):
        self._do_cut()
        self._unlisten()
        self._running = False

    def _loop(self):
        while self._running:
            timeout = self._next_due()
            for key, ev in self._sel.select(timeout):
                tag = key.data
                if tag[0] == "wake":
                    self._drain_cmds()
                elif tag[0] == "listen":
                    self._accept()
                else:
                    self._io(tag[1], key.fileobj, ev)
            self._flush_due()
        self._sel.close()

    def _drain_cmds(self):
        try:
            self._wake_r.recv(4096)
        except OSError:
            pass
        while True:
            try:
                fn, args, done, box = self._cmds.get_nowait()
            except queue.Empty:
                return
            try:
                box.append(fn(*args))
            finally:
                done.set()

    def _accept(self):
        if self._lsock is None:
            return
        for _ in range(64):
            try:
                cs, _ = self._lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            cs.setblocking(False)
            cs.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c = _Conn(cs)
            self.conns.append(c)
            self.stats["accepted"] += 1
            self._sel.register(cs, selectors.EVENT_READ, ("conn", c))
            if self.mode == "normal":
                self._connect_up(c)

    def _connect_up(self, c):
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        up.setblocking(False)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.up = up
        c.c2u.dst = up
        c.u2c.src = up
        c.connecting = True
        try:
            up.connect(self.upstream)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._close(c, reset=True)
            return
        self._sel.register(up, selectors.EVENT_WRITE, ("conn", c))

    def _events(self, c, sock):
        """What sock of c waits for now."""
        if sock is c.up and c.connecting:
            return selectors.EVENT_WRITE
        ev = 0
        rd = c.c2u if sock is c.client else c.u2c
        wr = c.u2c if sock is c.client else c.c2u
        if not rd.eof and rd.held < HOLD_MAX:
            ev |= selectors.EVENT_READ
        if wr.q and wr.q[0][0] <= time.monotonic() and \
                self.mode == "normal" and (sock is c.client or c.up_ok):
            ev |= selectors.EVENT_WRITE
        return ev

    def _rearm(self, c):
        for s in (c.client, c.up):
            if s is None or c.closed:
                continue
            ev = self._events(c, s)
            try:
                key = self._sel.get_key(s)
            except KeyError:
                key = None
            if ev == 0 and key is not None:
                self._sel.unregister(s)
            elif ev and key is None:
                self._sel.register(s, ev, ("conn", c))
            elif ev and key.events != ev:
                self._sel.modify(s, ev, ("conn", c))

    def _io(self, c, sock, ev):
        if c.closed:
            return
        if sock is c.up and c.connecting:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._close(c, reset=True)
                return
            c.connecting = False
            c.up_ok = True
        if ev & selectors.EVENT_READ:
            h = c.c2u if sock is c.client else c.u2c
            try:
                data = sock.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                self._close(c, reset=True)
                return
            if data == b"":
                h.eof = True
            elif data:
                self.stats["bytes_up" if h is c.c2u else "bytes_down"] += \
                    len(data)
                if self.mode == "blackhole":
                    self.stats["dropped"] += len(data)
                else:
                    h.q.append((time.monotonic() + self.delay_s, data))
                    h.held += len(data)
                    if h is c.u2c or c.up_ok:
                        self._write(c, h)
                        if c.closed:
                            return
        if ev & selectors.EVENT_WRITE:
            self._write(c, c.u2c if sock is c.client else c.c2u)
        if not c.closed:
            self._finish_halves(c)
        if not c.closed:
            self._rearm(c)

    def _write(self, c, h):
        now = time.monotonic()
        while h.q and h.q[0][0] <= now and self.mode == "normal":
            due, b = h.q[0]
            try:
                n = h.dst.send(b)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close(c, reset=True)
                return
            h.held -= n
            if n < len(b):
                h.q[0] = (due, b[n:])
                return
            h.q.pop(0)

    def _finish_halves(self, c):
        """Pass a FIN on once its direction's queue is empty; close the
        pair when both directions are done."""
        for h in (c.c2u, c.u2c):
            if h.eof and not h.q and not h.shut and self.mode == "normal" \
                    and h.dst is not None and (h is c.u2c or c.up_ok):
                try:
                    h.dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                h.shut = True
        if c.c2u.shut and c.u2c.shut:
            self._close(c)
        elif (c.c2u.eof and c.u2c.eof and self.mode == "blackhole"):
            self._close(c)

    def _close(self, c, reset=False):
        if c.closed:
            return
        c.closed = True
        for s in (c.client, c.up):
            if s is None:
                continue
            try:
                self._sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                except OSError:
                    pass
            s.close()
        self.conns.remove(c)

    def _next_due(self):
        if self.mode != "normal":
            return None
        due = [h.q[0][0] for c in self.conns for h in (c.c2u, c.u2c)
               if h.q]
        if not due:
            return None
        return max(0.0, min(due) - time.monotonic())

    def _flush_due(self):
        if self.mode != "normal" or self.delay_s == 0:
            return
        now = time.monotonic()
        for c in list(self.conns):
            if any(h.q and h.q[0][0] <= now for h in (c.c2u, c.u2c)):
                self._rearm(c)


def _hostport(s):
    host, _, port = s.rpartition(":")
    return (host or LOOPBACK, int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="HOST:PORT")
    ap.add_argument("--listen", type=int, default=0,
                    help="port on 127.0.0.1 (default: any free one)")
    args = ap.parse_args()
    r = Relay(_hostport(args.upstream), args.listen).start()
    print("listening %d" % r.port, flush=True)
    cmds = {"cut": r.cut, "refuse": lambda: r.refuse(True),
            "accept": lambda: r.refuse(False), "partition": r.partition,
            "blackhole": r.blackhole, "heal": r.heal}
    try:
        for line in sys.stdin:
            w = line.split()
            if not w:
                continue
            if w[0] == "quit":
                break
            if w[0] == "delay" and len(w) == 2:
                r.delay(int(w[1]))
                out = "ok"
            elif w[0] == "stats":
                out = json.dumps(r.counters(), sort_keys=True)
            elif w[0] in cmds:
                cmds[w[0]]()
                out = "ok"
            else:
                out = "error: unknown command %r" % w[0]
            print(out, flush=True)
    finally:
        r.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
