#!/usr/bin/env python3
"""canaryd integration test driver (python3 standard library only).

    python3 tools/itest.py --build build test/integration [-k substring]

Runs every test_*(env) function of every test/integration/test_*.py module,
in file order, each with a fresh itestlib.Env (its own ports, processes and
log directory).  Prints one line per test, "ok   name" or "FAIL name: reason"
(then the processes' logs), and ends with "N passed, N failed" (", N skipped"
when any were).  Exit status 0 only when no test failed.

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


def discover(testdir, substring):
    """[(name, function)] in file order, then definition order."""
    tests = []
    # Test modules import their shared helpers (configs.py) by name.
    sys.path.insert(0, os.path.abspath(testdir))
    for fn in sorted(os.listdir(testdir)):
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
    tests = discover(args.testdir, args.substring)
    if not tests:
        print("itest: no tests matched")
        return 2

    ports = itestlib.Ports()
    try:
        return run(tests, build, logroot, ports, args)
    finally:
        ports.release()


def run(tests, build, logroot, ports, args):
    """Run the tests; returns the exit status."""
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
            return 130
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


if __name__ == "__main__":
    sys.exit(main())
