#!/usr/bin/env python3
"""canaryd integration test driver (python3 standard library only).

    python3 tools/itest.py --build build test/integration [-k substring]

Runs every test_*(env) function of every test/integration/test_*.py module,
in file order, each with a fresh itestlib.Env (its own ports, processes and
log directory).  Prints one line per test, "ok   name" or "FAIL name: reason"
(then the processes' logs), and ends with "N passed, N failed" (", N skipped"
when any were).  Exit status 0 only when no test failed.

With -j N (default: the ITEST_JOBS environment variable, else 4) up to N
tests run at once, each in its own driver process (tools/itest.py --one
file:name); the tests are mostly waiting on processes, so this cuts the
wall time several-fold on two cores.  A test whose timing or load would
suffer from company says so -- `test_x.serial = True`, or `SERIAL = True`
in its module -- and runs after the others, alone.

Each test runs under an alarm (--test-timeout, or the function's own
`timeout` attribute when longer) so a hung test fails instead of stalling
the suite; whatever happens, the Env stops every process it
started.  Logs of a passing run are removed; a failing run keeps them and
says where.
"""

import argparse
import importlib.util
import inspect
import os
import shutil
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itestlib  # noqa: E402

LOG_TAIL = 150      # lines of each log printed on failure


class TestTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise TestTimeout()


def discover(testdir, substring, only=None):
    """[(name, function)] in file order, then definition order; `only`,
    "file:name", imports that one file and keeps that one test."""
    tests = []
    # Test modules import their shared helpers (configs.py) by name.
    sys.path.insert(0, os.path.abspath(testdir))
    files = sorted(os.listdir(testdir))
    if only:
        files = [only.split(":", 1)[0]]
    for fn in files:
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        path = os.path.join(testdir, fn)
        spec = importlib.util.spec_from_file_location(
            "itest_" + fn[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        funcs = [f for n, f in inspect.getmembers(mod, inspect.isfunction)
                 if n.startswith("test_") and f.__module__ == mod.__name__]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in funcs:
            name = f.__name__[len("test_"):]
            f.itest_file = fn
            f.itest_serial = getattr(f, "serial",
                                     getattr(mod, "SERIAL", False))
            if only and only.split(":", 1)[1] != name:
                continue
            if substring and substring not in name and \
                    substring not in fn:
                continue
            tests.append((name, f))
    return tests


def reason_of(e, tb):
    """One line: the message, and where a bare assert failed."""
    if isinstance(e, TestTimeout):
        return "timed out (test still running after the alarm)"
    msg = str(e) or type(e).__name__
    if not isinstance(e, itestlib.TestFailure):
        msg = "%s: %s" % (type(e).__name__, msg)
    frames = [f for f in traceback.extract_tb(tb)
              if "test/integration" in f.filename.replace(os.sep, "/")]
    if frames:
        f = frames[-1]
        msg += " [%s:%d: %s]" % (os.path.basename(f.filename), f.lineno,
                                 f.line)
    return msg


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error: ")


def sanitizer_report(env):
    """The first sanitizer report in the test's logs, or None."""
    for name, path, text in env.logs():
        for ln in text.splitlines():
            if any(m in ln for m in SANITIZER_MARKS):
                return "sanitizer report in %s: %s" % (name, ln.strip()[:200])
    return None


def print_logs(env):
    for name, path, text in env.logs():
        lines = text.splitlines()
        print("    --- %s (%s, %d lines%s) ---" % (
            name, path, len(lines),
            ", last %d" % LOG_TAIL if len(lines) > LOG_TAIL else ""))
        for ln in lines[-LOG_TAIL:]:
            print("    | " + ln)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build",
                    help="directory holding canaryd and backend")
    ap.add_argument("-k", dest="substring", default=None,
                    help="run only tests whose name (or file) contains it")
    ap.add_argument("--log-level", default="info",
                    help="canaryd -l level (default info)")
    ap.add_argument("--logs", default=None,
                    help="where logs go (default test/integration/logs/"
                         "run-<time>-<pid>)")
    ap.add_argument("--test-timeout", type=int, default=40,
                    help="seconds before one test is failed as hung")
    ap.add_argument("-j", dest="jobs", type=int,
                    default=int(os.environ.get("ITEST_JOBS", "4")),
                    help="tests run at once (default $ITEST_JOBS or 4)")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("testdir", nargs="?", default="test/integration")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    if not os.access(os.path.join(build, "backend"), os.X_OK):
        print("itest: %s/backend missing: run make first" % build)
        return 2
    if not os.access(os.path.join(build, "canaryd"), os.X_OK):
        # Not fatal: the backend's own tests still run, the rest fail.
        print("itest: warning: %s/canaryd missing" % build)
    logroot = args.logs or os.path.join(
        os.path.abspath(args.testdir), "logs",
        "run-%s-%d" % (time.strftime("%Y%m%d-%H%M%S"), os.getpid()))
    tests = discover(args.testdir, args.substring, args.one)
    if not tests:
        print("itest: no tests matched")
        return 2

    if args.one is None and args.jobs > 1:
        return run_parallel(tests, build, logroot, args)
    ports = itestlib.Ports()
    try:
        return run(tests, build, logroot, ports, args)
    finally:
        ports.release()


def child_argv(build, logroot, args, fn):
    return [sys.executable, os.path.abspath(__file__), "--build", build,
            "--logs", logroot, "--log-level", args.log_level,
            "--test-timeout", str(args.test_timeout),
            "--one", "%s:%s" % (fn.itest_file, fn.__name__[len("test_"):]),
            args.testdir]


def run_parallel(tests, build, logroot, args):
    """Run the parallel tests args.jobs at a time, each in a child driver
    whose output is printed whole when it ends; then the serial ones here,
    one by one.  The longest (a `timeout` attribute) start first."""
    import subprocess
    import tempfile
    t0 = time.monotonic()
    os.makedirs(logroot, exist_ok=True)
    pending = [t for t in tests if not t[1].itest_serial]
    pending.sort(key=lambda t: -getattr(t[1], "timeout", 0))
    serial = [t for t in tests if t[1].itest_serial]
    running = {}    # Popen -> (name, output file, start)
    counts = {"ok": 0, "FAIL": 0, "skip": 0}

    def reap(p):
        name, out, _ = running.pop(p)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        out.close()
        lines = [ln for ln in text.splitlines()
                 if not ln.startswith("(") and " passed, " not in ln
                 and not ln.startswith("logs kept in ")]
        print("\n".join(lines))
        sys.stdout.flush()
        if p.returncode == 0:
            counts["skip" if any(ln.startswith("skip ") for ln in lines)
                   else "ok"] += 1
        else:
            if not any(ln.startswith("FAIL ") for ln in lines):
                print("FAIL %s: driver exited with %d" % (name, p.returncode))
            counts["FAIL"] += 1

    try:
        while pending or running:
            while pending and len(running) < args.jobs:
                name, fn = pending.pop(0)
                out = tempfile.TemporaryFile()
                p = subprocess.Popen(child_argv(build, logroot, args, fn),
                                     stdout=out, stderr=subprocess.STDOUT)
                running[p] = (name, out, time.monotonic())
            time.sleep(0.05)
            for p in [p for p in running if p.poll() is not None]:
                reap(p)
            # A child past its own alarm and the stopping grace is hung:
            # killing it kills what it started (they die with their parent).
            for p, (name, out, t) in list(running.items()):
                if time.monotonic() - t > args.test_timeout + 600:
                    p.kill()
    except KeyboardInterrupt:
        for p in running:
            p.send_signal(signal.SIGINT)
        for p in running:
            p.wait()
        print("interrupted")
        return 130

    rc = 0
    if serial:
        ports = itestlib.Ports()
        try:
            print("(%d serial tests, alone)" % len(serial))
            rc, sp, sf, ss = run(serial, build, logroot, ports, args,
                                 summary=False)
            counts["ok"] += sp
            counts["FAIL"] += sf
            counts["skip"] += ss
        finally:
            ports.release()
    if rc == 130:
        return rc
    return summarize(counts["ok"], counts["FAIL"], counts["skip"], t0,
                     logroot, args)


def summarize(passed, failed, skipped, t0, logroot, args):
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    if failed:
        print("logs kept in %s" % logroot)
    elif args.logs is None:
        shutil.rmtree(logroot, ignore_errors=True)
    print("(%.1fs)" % (time.monotonic() - t0))
    print(line)
    return 1 if failed else 0


def run(tests, build, logroot, ports, args, summary=True):
    """Run the tests one by one; returns the exit status (or, without
    summary, (status, passed, failed, skipped))."""
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = skipped = 0
    t0 = time.monotonic()
    for name, fn in tests:
        env = itestlib.Env(build, os.path.join(logroot, name),
                           args.log_level, ports)
        t = time.monotonic()
        status, why = "ok", None
        # a test that needs longer says so: test_x.timeout = seconds
        signal.alarm(max(args.test_timeout, getattr(fn, "timeout", 0)))
        try:
            fn(env)
        except itestlib.Skip as e:
            status, why = "skip", str(e)
        except KeyboardInterrupt:
            signal.alarm(0)
            env.stop()
            print("interrupted")
            return 130 if summary else (130, passed, failed, skipped)
        except BaseException as e:
            status, why = "FAIL", reason_of(e, e.__traceback__)
        finally:
            signal.alarm(0)
        # Stopping is outside the alarm: it is bounded by itself.
        try:
            env.stop()
        except Exception as e:
            if status == "ok":
                status, why = "FAIL", "stopping processes: %s" % e
        # A sanitizer report fails the test even when every answer was
        # right (a worker that died after answering is respawned).
        if status == "ok":
            why = sanitizer_report(env)
            if why:
                status = "FAIL"
        dt = time.monotonic() - t
        if status == "ok":
            passed += 1
            print("ok   %s (%.1fs)" % (name, dt))
        elif status == "skip":
            skipped += 1
            print("skip %s: %s" % (name, why))
        else:
            failed += 1
            print("FAIL %s: %s (%.1fs)" % (name, why, dt))
            print_logs(env)
        sys.stdout.flush()

    if not summary:
        return (1 if failed else 0), passed, failed, skipped
    if args.one:
        return (1 if failed else 0)
    return summarize(passed, failed, skipped, t0, logroot, args)


if __name__ == "__main__":
    sys.exit(main())
