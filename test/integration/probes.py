"""Driving the test programs of test/*_probe.c (build/<name>-probe): one
command a line on stdin, one JSON answer a line on stdout, asynchronous
messages (watch events, fleet reports) on the same stdout marked by a
key of their own.  A reader thread sorts the lines into two queues, so a
test waits on either with a timeout.  The probe is one of the Env's
processes: stopped by PID with the rest, its stderr (the module's log)
printed when a test fails."""

import json
import os
import queue
import signal
import subprocess
import threading
import time

import itestlib
from itestlib import TestFailure

ROOT = itestlib.REPO


def probe_path(env, name):
    """build/<name>-probe, built on demand (make builds probes only for
    `make integration`)."""
    path = os.path.join(env.build, "%s-probe" % name)
    if not os.access(path, os.X_OK):
        rel = os.path.relpath(os.path.abspath(env.build), ROOT)
        args = ["make", "-s", "-C", ROOT, "BUILD=" + rel,
                os.path.join(rel, "%s-probe" % name)]
        if rel == "build/san":
            args.insert(4, "SANITIZE=1")
        st, out, err = env.run(args, timeout=300)
        if st != 0:
            raise TestFailure("building %s: %s" % (path, err[-800:]))
    return path


class Probe(itestlib.Proc):
    """One running probe; see the module comment.  async_key: the JSON
    key that marks an asynchronous line.  A Proc whose stdin and stdout
    are pipes: stderr alone goes to its log."""

    def __init__(self, env, name, args, async_key, tag=None):
        self.name = tag or "%s-probe" % name
        self.argv = [probe_path(env, name)] + list(args)
        self.logpath = os.path.join(env.logdir, self.name + ".log")
        self.log = open(self.logpath, "wb")
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, close_fds=True,
            preexec_fn=itestlib._die_with_parent)
        self.pid = self.popen.pid
        self.known_children = set()
        self.async_key = async_key
        self.answers = queue.Queue()
        self.events = queue.Queue()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        env.procs.append(self)
        ready = self.answer(10)
        if not ready.get("ready"):
            raise TestFailure("%s did not start: %r" % (self.name, ready))

    def _read(self):
        for line in self.popen.stdout:
            try:
                o = json.loads(line)
            except ValueError:
                o = {"bad_line": line.decode("utf-8", "replace")}
            (self.events if self.async_key in o else self.answers).put(o)
        self.answers.put({"eof": True})

    def answer(self, timeout):
        try:
            return self.answers.get(timeout=timeout)
        except queue.Empty:
            raise TestFailure("%s: no answer within %.1fs" % (self.name,
                                                              timeout))

    def cmd(self, line, timeout=8.0):
        """Send one command; its answer (a dict)."""
        if self.popen.poll() is not None:
            raise TestFailure("%s exited with %s" % (self.name,
                                                     self.popen.returncode))
        self.popen.stdin.write(line.encode() + b"\n")
        self.popen.stdin.flush()
        return self.answer(timeout)

    def ok(self, line, timeout=8.0):
        """cmd(), failing the test unless the answer says ok."""
        a = self.cmd(line, timeout)
        if not a.get("ok"):
            raise TestFailure("%s: %r answered %r" % (self.name, line, a))
        return a

    def event(self, timeout=3.0):
        """The next asynchronous line, or None after timeout s."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_event(self, pred, timeout, what):
        """Asynchronous lines until pred(line) holds; those read before
        are returned too: (match, [skipped])."""
        deadline = time.monotonic() + timeout
        seen = []
        for _ in range(100000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ev = self.event(min(left, 0.5))
            if ev is None:
                continue
            if pred(ev):
                return ev, seen
            seen.append(ev)
        raise TestFailure("%s: no %s within %.1fs; saw %r" % (
            self.name, what, timeout, seen[-5:]))

    def finish(self):
        """End of input: the probe must exit 0 with a clean log (under
        SANITIZE=1 a leak or a memory error makes it exit non-zero)."""
        self.popen.stdin.close()
        try:
            st = self.popen.wait(10)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s did not exit at end of input" % self.name)
        log = self.output()
        if st != 0 or "Sanitizer" in log or "runtime error" in log:
            raise TestFailure("%s exited with %s:\n%s" % (self.name, st,
                                                          log[-3000:]))

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.popen.send_signal(sig)
            self.popen.wait(itestlib.STOP_TIMEOUT)

    def stop(self):
        """End of input first: a probe exits cleanly on it."""
        if self.alive():
            try:
                self.popen.stdin.close()
                self.popen.wait(itestlib.STOP_TIMEOUT)
            except (OSError, subprocess.TimeoutExpired):
                pass
        super().stop()
