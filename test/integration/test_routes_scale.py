"""Route matching with 10,000 routes in one virtual host and 1,000 more
virtual hosts (worker/router_index.c): the table loads and validates, the
first, a middle and the last route answer, every match kind keeps its
place in first-match order (path, path_separated_prefix, safe_regex,
case_sensitive: false, a header matcher, runtime_fraction at 0 and 100 %,
a route shadowed by an earlier shorter prefix), Host picks exact names, then the longest suffix
wildcard, then prefix wildcards, then "*"; a structural reload swaps the
table, and a bad one keeps it.  Each route adds a response header naming
itself, so a test sees which route won, and a plain in-order model of
Envoy's rules says which one should have."""

import http.client
import os
import random
import re
import signal

from itestlib import Raw, eq, expect, settle

import configs

N = 10000
SHADOW = 9000           # prefix "/svc12": after /svc12/, /svc120/ ...
NVHOSTS = 1000
FRACTIONS = {4000: "0%", 4001: "100%"}


def route_table(label):
    """The main virtual host's routes, as (kind, value, case_sensitive,
    header, name) in config order; the last one is the catch-all.  A
    header of "0%" or "100%" stands for a runtime_fraction."""
    routes = []
    for i in range(1, N + 1):
        cs, hdr = True, None
        if i in FRACTIONS:
            kind, value, hdr = "prefix", "/svc%d/" % i, FRACTIONS[i]
        elif i == SHADOW:
            kind, value = "prefix", "/svc12"
        elif i % 500 == 7:
            kind, value = "path", "/svc%d/exact" % i
        elif i % 500 == 123:
            kind, value, hdr = "prefix", "/svc%d/" % i, "open"
        elif i % 500 == 250:
            kind, value, cs = "prefix", "/Svc%d/" % i, False
        elif i % 1000 == 555:
            kind, value = "path_separated_prefix", "/sep%d" % i
        elif i % 2000 == 999:
            kind, value = "safe_regex", "/re%d/[0-9]+" % i
        else:
            kind, value = "prefix", "/svc%d/" % i
        routes.append((kind, value, cs, hdr, "%s%d" % (label, i)))
    routes.append(("prefix", "/", True, None, label + "-last"))
    return routes


def yaml_routes(routes):
    out = []
    for kind, value, cs, hdr, name in routes:
        if kind == "safe_regex":
            m = 'safe_regex: { regex: "%s" }' % value
        else:
            m = '%s: "%s"' % (kind, value)
        if not cs:
            m += ", case_sensitive: false"
        if hdr in ("0%", "100%"):
            m += (', runtime_fraction: { default_value: { numerator: %s, '
                  'denominator: HUNDRED }, runtime_key: routing.%s }' %
                  (hdr[:-1], name))
        elif hdr:
            m += (', headers: [{ name: x-gate, string_match: '
                  '{ exact: "%s" } }]' % hdr)
        out.append('              - match: { %s }\n'
                   '                route: { cluster: backend_v1 }\n'
                   '                response_headers_to_add:\n'
                   '                - header: { key: x-route, value: "%s" }\n'
                   % (m, name))
    return "".join(out)


def config(label):
    vhosts = []
    for j in range(NVHOSTS):
        vhosts.append('            - name: vh%d\n'
                      '              domains: ["h%d.example.com"]\n'
                      '              routes:\n'
                      '              - match: { prefix: "/" }\n'
                      '                route: { cluster: backend_v2 }\n'
                      '                response_headers_to_add:\n'
                      '                - header: { key: x-route, '
                      'value: "%s-vh%d" }\n' % (j, j, label, j))
    for name, dom in (("wild", "*.wild.example.com"),
                      ("wilder", "*.example.com"),
                      ("pre", "pre.*")):
        vhosts.append('            - name: %s\n'
                      '              domains: ["%s"]\n'
                      '              routes:\n'
                      '              - match: { prefix: "/" }\n'
                      '                route: { cluster: backend_v2 }\n'
                      '                response_headers_to_add:\n'
                      '                - header: { key: x-route, '
                      'value: "%s-%s" }\n' % (name, dom, label, name))
    vhosts.append('            - name: main\n'
                  '              domains: ["*"]\n'
                  '              routes:\n' +
                  yaml_routes(route_table(label)))
    return configs.with_vhosts("".join(vhosts))


def expected(routes, path, headers, label):
    """The route Envoy picks for path on the main virtual host: the
    first in order whose match holds."""
    bare = path.split("?", 1)[0]
    for kind, value, cs, hdr, name in routes:
        p, b, v = (path, bare, value) if cs else \
            (path.lower(), bare.lower(), value.lower())
        if kind == "prefix":
            ok = p.startswith(v)
        elif kind == "path":
            ok = b == v
        elif kind == "path_separated_prefix":
            ok = b == v or b.startswith(v + "/")
        else:
            ok = re.fullmatch(value, bare) is not None
        if ok and hdr in ("0%", "100%"):
            ok = hdr == "100%"
        elif ok and hdr is not None:
            ok = headers.get("x-gate") == hdr
        if ok:
            return name
    return None


def sample_paths(rng):
    """(path, headers) asked of the main virtual host: first, middle
    and last routes, every special kind, shadowed ones, and random."""
    fixed = ["/svc1/", "/svc1/a?b=c", "/svc5000/x", "/svc10000/",
             "/svc10000/api?x=1", "/svc9999/deep/path", "/api",
             "/svc10001/", "/svc1", "/svc12/x", "/svc123/x",
             "/svc1299/x", "/svc12999/x", "/svc12x", "/svc9000/x",
             "/svc7/exact", "/svc7/exact?q", "/svc7/exactly",
             "/svc507/exact", "/svc9507/exact",
             "/svc250/a", "/SVC250/a", "/svc9750/A", "/sVc9750/",
             "/sep555", "/sep555/", "/sep555/x?y", "/sep5555",
             "/sep9555x", "/re999/12", "/re999/12a", "/re9999/0",
             "/svc123/", "/svc9623/z", "/", "", "/svc", "/svc4000/",
             "/svc4001/"]
    out = [(p or "/", {}) for p in fixed]
    out += [("/svc123/", {"x-gate": "open"}),
            ("/svc9623/z", {"x-gate": "open"}),
            ("/svc9623/z", {"x-gate": "shut"})]
    for _ in range(300):
        i = rng.randrange(1, N + 400)
        tail = rng.choice(["", "x", "/a/b", "?q=1", "exact", "/"])
        stem = rng.choice(["/svc", "/Svc", "/sep", "/re"])
        hdrs = {"x-gate": "open"} if rng.randrange(4) == 0 else {}
        out.append(("%s%d%s" % (stem, i, tail), hdrs))
    return out


def check_main(env, routes, label, rng, what):
    c = env.client()
    try:
        for path, hdrs in sample_paths(rng):
            r = c.get(path, headers=hdrs)
            want = expected(routes, path, hdrs, label)
            eq(r.status, 200, "%s: GET %s %s status" % (what, path, hdrs))
            eq(r.header("x-route"), want, "%s: route for GET %s %s" %
               (what, path, hdrs))
    finally:
        c.close()


def check_hosts(env, label, what):
    for host, want in (("h0.example.com", "vh0"),
                       ("H999.Example.COM", "vh999"),
                       ("h500.example.com", "vh500"),
                       ("h1000.example.com", "wilder"),
                       ("a.wild.example.com", "wild"),
                       ("wild.example.com", "wilder"),
                       ("pre.example.com", "wilder"),
                       ("pre.example.org", "pre"),
                       ("pre.", "main"),
                       ("h0.example.com:80", "main"),
                       ("example.org", "main")):
        r = env.get("/svc10000/", headers={"Host": host})
        eq(r.status, 200, "%s: Host %s status" % (what, host))
        got = r.header("x-route")
        eq(got, "%s-%s" % (label, want) if want != "main" else
           "%s10000" % label, "%s: route for Host %s" % (what, host))


def test_ten_thousand_routes_match_in_order(env):
    env.start_backends()
    cfg = env.write_config(config("r"))
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                            cfg], timeout=60)
    eq(st, 0, "validate of 10,000 routes (stderr %r)" % err[-500:])
    env.start_canaryd(cfg, concurrency=2)
    routes = route_table("r")
    check_main(env, routes, "r", random.Random(15), "loaded")
    check_hosts(env, "r", "loaded")


def test_ten_thousand_routes_pipelined(env):
    """Pipelined requests for the first, a middle and the last route
    on one connection, answered in order, each by its own route."""
    env.start_backends()
    env.start_canaryd(env.write_config(config("r")), concurrency=1)
    paths = ["/svc1/p", "/svc5001/p", "/svc10000/p", "/api", "/SVC250/"] * 4
    raw = Raw(env.proxy_port)
    try:
        raw.send(b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                          p.encode() for p in paths))
        routes = route_table("r")
        for p in paths:
            r = raw.read_response()
            eq(r.status, 200, "pipelined GET %s status" % p)
            eq(r.header("x-route"), expected(routes, p, {}, "r"),
               "pipelined GET %s route" % p)
    finally:
        raw.close()


def reload_stat(env, name):
    """A server.* counter, or None while the master is busy: it reads and
    checks a file of 10,000 routes in its loop, the admin port waiting
    (a second or two; more than HTTP_TIMEOUT under ASan on a busy box)."""
    try:
        return env.stat(name)
    except (OSError, http.client.HTTPException):
        return None


def test_ten_thousand_routes_reload(env):
    env.start_backends()
    cfg = env.write_config(config("r"))
    p = env.start_canaryd(cfg, concurrency=2)
    eq(env.get("/svc10000/").header("x-route"), "r10000", "before reload")

    # structurally new: other names, and the shadow gone
    text = config("s").replace('prefix: "/svc12"', 'prefix: "/svc12-"')
    eq(env.write_config(text), cfg, "the config rewritten in place")
    os.kill(p.pid, signal.SIGHUP)
    # a structural reload of 10,000 routes: ~2 s plain, 10 s and more
    # under ASan on a busy box; this waits for it, it does not time it
    eq(settle(lambda: reload_stat(env, "server.config_reload"), 1,
              timeout=60.0), 1, "server.config_reload")
    routes = [(k, "/svc12-" if v == "/svc12" else v, cs, h,
               n.replace("r", "s", 1)) for k, v, cs, h, n in
              route_table("r")]
    settle(lambda: env.get("/svc10000/").header("x-route"), "s10000",
           timeout=30.0)
    check_main(env, routes, "s", random.Random(16), "reloaded")
    eq(env.get("/svc12999/").header("x-route"), "s-last",
       "the shadow is gone after the reload")
    check_hosts(env, "s", "reloaded")

    # a bad table: the running one stays
    env.write_config(text.replace('regex: "/re999/[0-9]+"',
                                  'regex: "/re999/[0-9+"'))
    os.kill(p.pid, signal.SIGHUP)
    eq(settle(lambda: reload_stat(env, "server.config_reload_fail"), 1,
              timeout=60.0), 1,
       "server.config_reload_fail")
    check_main(env, routes, "s", random.Random(17), "after a bad reload")
    expect(re.search(r"%s:\d+:\d+: " % re.escape(cfg), p.output()),
           "the bad reload's file:line:column in the log")
