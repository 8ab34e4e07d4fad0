"""Many listeners (canaryd(8), LIMITS: no count but memory and file
descriptors): 40 listeners, each on its own port with its own stat_prefix
and access log, on 2 workers: every one serves, and /stats counts each
listener's requests and connections apart.  A structural reload that
removes 10 and adds 10 others keeps serving on the 30 it keeps, their
counters carrying on (records kept by name), the removed ports closed,
the added ones counted from 0 and logging to their own files (their
records lie past 47, where a one-byte access log tag ended).  A reload
that needs more listener records than the segment holds is refused
naming them and --shm-size; validate refuses a file whose sockets do
not fit the open-file limit."""

import os
import resource
import signal
import subprocess

from configs import HCM_TYPE, ROUTER_TYPE, TAIL
from itestlib import V1_BODY, eq, expect, settle, wait_until
from test_listeners import refused

N = 40

LISTENER = """\
  - name: {name}
    address:
      socket_address: {{ address: 127.0.0.1, port_value: {port} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": %s
          stat_prefix: {prefix}
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {log}
              log_format:
                text_format_source:
                  inline_string: "{name} %%REQ(:PATH)%% %%RESPONSE_CODE%%\\n"
          route_config:
            name: {name}_routes
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{ prefix: "/" }}
                route: {{ cluster: backend_v1 }}
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": %s
""" % (HCM_TYPE, ROUTER_TYPE)

# backend_v1 (and backend_v2, unused) and the admin, as everywhere
CLUSTERS = TAIL[TAIL.index("  clusters:"):]


def port_of(env, name):
    return env.port("lsn_" + name)


def config(env, names):
    """A file with a listener per name: its own port, stat_prefix
    p_<name> and access log <name>.log."""
    text = "static_resources:\n  listeners:\n"
    for n in names:
        text += LISTENER.format(name=n, port=port_of(env, n),
                                prefix="p_" + n,
                                log=os.path.join(env.logdir, n + ".log"))
    return env.write_config(text + CLUSTERS)


def lstat(env, name, what):
    return "listener.127.0.0.1_%d.%s" % (port_of(env, name), what)


def log_lines(env, name):
    try:
        with open(os.path.join(env.logdir, name + ".log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def serve(env, names, count):
    """count(name) requests to each listener, a connection each."""
    for n in names:
        for k in range(count(n)):
            r = env.get("/%s/%d" % (n, k), port=port_of(env, n))
            eq((r.status, r.body), (200, V1_BODY), "listener %s" % n)


def check(env, names, want):
    """/stats counts want[name] requests and connections per listener;
    its access log has as many lines, its own."""
    def counted():
        s = env.stats()
        return {n: s.get("http.p_%s.downstream_rq_total" % n)
                for n in names}
    settle(counted, {n: want[n] for n in names}, timeout=10)
    s = env.stats()
    for n in names:
        eq(s["http.p_%s.downstream_rq_2xx" % n], want[n], n + " 2xx")
        eq(s[lstat(env, n, "downstream_cx_total")], want[n],
           n + " connections")
        eq(s[lstat(env, n, "http.p_%s.downstream_rq_completed" % n)],
           want[n], n + " completed")
    for n in names:
        lines = wait_until(lambda: len(log_lines(env, n)) >= want[n] and
                           log_lines(env, n), 5, "%d lines in %s.log" %
                           (want[n], n))
        eq(len(lines), want[n], n + ".log lines")
        expect(all(line.startswith(n + " /" + n + "/") and
                   line.endswith(" 200") for line in lines),
               "%s.log: %r" % (n, lines[:3]))


def test_forty_listeners_serve_count_and_reload(env):
    env.start_backend("v1")
    first = ["l%d" % i for i in range(N)]
    cfg = config(env, first)
    p = env.start_canaryd(cfg, concurrency=2)
    eq(env.admin("/listeners").text.count("\n"), N, "/listeners lines")

    def count(n):
        return 1 + int(n[1:]) % 3
    serve(env, first, count)
    want = {n: count(n) for n in first}
    check(env, first, want)

    # a structural reload: l30..l39 go, m0..m9 come
    kept, gone = first[:30], first[30:]
    added = ["m%d" % i for i in range(10)]
    config(env, kept + added)
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1, timeout=10)
    eq(env.stat("server.config_reload_fail"), 0, "reload failures")
    for n in gone:
        wait_until(lambda: refused(port_of(env, n)), 10,
                   "removed listener %s's port refused" % n)
    serve(env, kept, lambda n: 1)
    serve(env, added, lambda n: 2)
    for n in kept:
        want[n] += 1
    for n in added:
        want[n] = 2
    check(env, kept + added, want)
    s = env.stats()
    for n in gone:
        expect("http.p_%s.downstream_rq_total" % n not in s,
               "the removed %s's stats are gone" % n)
    eq(env.admin("/listeners").text.count("\n"), N,
       "/listeners lines after the reload")
    print("    %d listeners, then 10 of them replaced; %d requests" %
          (N, sum(want.values())))

    # twice the file's listeners and 16: 96 records, 40 in use; 57 new
    # names do not fit beside them
    config(env, ["n%d" % i for i in range(57)])
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload_fail"), 1, timeout=10)
    out = wait_until(lambda: "--shm-size" in p.output() and p.output(), 5,
                     "the refusal in the log")
    expect("room for 96 listener records" in out,
           "the refusal names the records: %s" % out[-600:])
    print("    " + [x for x in out.splitlines()
                     if "--shm-size" in x][-1].split("] ")[-1])
    serve(env, kept[:3] + added[:3], lambda n: 1)


def test_listeners_must_fit_the_open_file_limit(env):
    names = ["l%d" % i for i in range(N)]
    cfg = config(env, names)

    def validate(concurrency, nofile):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        p = subprocess.run([env.canaryd_bin, "--mode", "validate", "-f",
                            cfg, "--concurrency", str(concurrency)],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=20, preexec_fn=limit)
        return p.returncode, p.stderr.decode()
    # 40 x 64 = 2,560 sockets in the master
    st, err = validate(64, 1024)
    expect(st != 0, "validate accepted 2,560 sockets under 1,024 fds")
    expect("RLIMIT_NOFILE" in err and "1024" in err and
           "--concurrency" in err, "the message: %r" % err)
    st, err = validate(2, 1024)
    eq(st, 0, "validate with 2 workers: %s" % err)
