"""Process lifecycle options (canaryd(8)): --pid-file, --log-path with
SIGUSR1 reopening it, --version and --help, and a second SIGTERM that stops
at once."""

import os
import signal
import time

from itestlib import eq, expect, wait_until


def test_pid_file_and_log_reopen(env):
    env.start_backends()
    pidfile = os.path.join(env.logdir, "canaryd.pid")
    logpath = os.path.join(env.logdir, "error.log")
    p = env.start_canaryd(env.seed_config(), concurrency=1,
                          args=("--pid-file", pidfile, "--log-path", logpath))
    wait_until(lambda: os.path.exists(pidfile) and
               open(pidfile).read().strip() == str(p.pid), 3,
               "the pid file to hold the master's pid")
    wait_until(lambda: os.path.exists(logpath) and
               "canaryd" in open(logpath).read(), 3,
               "start-up lines in --log-path")
    # a second canaryd with the same pid file refuses to start
    st, out, err = env.run([env.canaryd_bin, "-f", p.config,
                            "--pid-file", pidfile])
    eq(st, 1, "a second canaryd on the same pid file")
    expect("already running" in err, "its message: " + err)
    # logrotate's way: move the file, then SIGUSR1
    os.rename(logpath, logpath + ".1")
    os.kill(p.pid, signal.SIGUSR1)
    wait_until(lambda: os.path.exists(logpath) and
               "SIGUSR1" in open(logpath).read(), 3,
               "a new log file after SIGUSR1")
    os.kill(p.pid, signal.SIGTERM)
    eq(p.popen.wait(timeout=5), 0, "exit status")
    expect(not os.path.exists(pidfile), "the pid file is removed at exit")


def test_version_and_help(env):
    st, out, err = env.run([env.canaryd_bin, "--version"])
    eq(st, 0, "--version exit status")
    expect(out.startswith("canaryd version "), "--version: " + out)
    st, out, err = env.run([env.canaryd_bin, "--help"])
    eq(st, 0, "--help exit status")
    for opt in ("-f", "--mode", "--concurrency", "--log-path",
                "--drain-time-s", "--pid-file"):
        expect(opt in out, "--help mentions %s" % opt)
    st, out, err = env.run([env.canaryd_bin])
    eq(st, 1, "no config file: usage and exit 1")


def test_second_sigterm_stops_at_once(env):
    v1, v2 = env.start_backends(args=("--delay_ms", "5000"))
    p = env.start_canaryd(env.seed_config(), concurrency=1)
    c = env.raw()
    c.send(b"GET /api HTTP/1.1\r\nHost: x\r\n\r\n")
    wait_until(lambda: v1.stats()["active"] + v2.stats()["active"] == 1,
               3, "the request in flight")
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGTERM)
    time.sleep(0.2)
    expect(p.alive(), "canaryd waits for the request in flight")
    os.kill(p.pid, signal.SIGTERM)
    p.popen.wait(timeout=3)
    expect(time.monotonic() - t0 < 2.0, "the second SIGTERM stopped at once")
    c.close()
