"""Rewrites and redirects, run from Envoy's own style of config
(test/configs/envoy-docs/redirects-rewrites.yaml): the Location of each
redirect (HTTPS, prefix, path and host, strip_query), a 3xx direct
response, and what the backend receives after prefix_rewrite,
regex_rewrite and the Host rewrites, with x-envoy-original-path; and
direct response bodies from a file (read again on SIGHUP) and base64."""

import os
import signal

import configs
from itestlib import eq, settle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "test", "configs", "envoy-docs")


def upstream(r):
    """(request line, {name: [values]}) the backend's /echo saw."""
    j = r.json()
    hdrs = {}
    for k, v in j["headers"]:
        hdrs.setdefault(k.lower(), []).append(v)
    return j["request_line"], hdrs


def test_redirects_answer_with_envoys_location(env):
    env.start_backends()
    env.start_canaryd(env.file_config(os.path.join(
        DOCS, "redirects-rewrites.yaml")), concurrency=2)
    host = "127.0.0.1:%d" % env.proxy_port
    before = (env.stat("http.ingress_http.rq_redirect"),
              env.stat("http.ingress_http.rq_direct_response"))
    cases = [
        # path, Host, status, Location
        ("/pay?x=1", "secure.example.com", 301,
         "https://secure.example.com/pay?x=1"),
        ("/old-docs/a/b?v=2", None, 308, "http://%s/docs/a/b?v=2" % host),
        ("/login?next=/", None, 302,
         "http://accounts.example.com/signin?next=/"),
        ("/search/x?q=canary", None, 301, "http://%s/find" % host),
    ]
    for path, h, status, location in cases:
        r = env.get(path, headers={"Host": h} if h else None)
        eq((r.status, r.header("location"), r.body), (status, location, b""),
           "GET " + path)
    # behind a TLS proxy: the scheme follows x-forwarded-proto
    r = env.get("/old-docs/x", headers={"X-Forwarded-Proto": "https"})
    eq(r.header("location"), "https://%s/docs/x" % host,
       "scheme from x-forwarded-proto")
    # a 3xx direct response points at the request's own URL
    r = env.get("/gone")
    eq((r.status, r.header("location")), (301, "http://%s/gone" % host),
       "direct_response 301")
    got = settle(lambda: (env.stat("http.ingress_http.rq_redirect") -
                          before[0],
                          env.stat("http.ingress_http.rq_direct_response") -
                          before[1]), (5, 6))
    eq(got, (5, 6), "rq_redirect, rq_direct_response increases")


def test_rewrites_change_what_the_backend_gets(env):
    env.start_backends()
    env.start_canaryd(env.file_config(os.path.join(
        DOCS, "redirects-rewrites.yaml")), concurrency=2)
    host = "127.0.0.1:%d" % env.proxy_port
    r = env.get("/api/v1/users/7?full=1",
                headers={"X-Forwarded-Host": "front.example"})
    eq(r.status, 200, "prefix_rewrite status")
    line, h = upstream(r)
    eq(line, "GET /echo/users/7?full=1 HTTP/1.1", "prefix_rewrite path")
    eq(h.get("host"), ["api.internal"], "host_rewrite_literal")
    eq(h.get("x-forwarded-host"), ["front.example," + host],
       "append_x_forwarded_host")
    eq(h.get("x-envoy-original-path"), ["/api/v1/users/7?full=1"],
       "x-envoy-original-path")

    r = env.get("/service/cart/items/3?a=b",
                headers={"X-Backend-Host": "cart.internal"})
    line, h = upstream(r)
    eq(line, "GET /echo/items/3/instance/cart?a=b HTTP/1.1",
       "regex_rewrite path")
    eq(h.get("host"), ["cart.internal"], "host_rewrite_header")
    eq(h.get("x-envoy-original-path"), ["/service/cart/items/3?a=b"],
       "x-envoy-original-path")
    # no such header: Host stays
    line, h = upstream(env.get("/service/cart/x"))
    eq(h.get("host"), [host], "host_rewrite_header without the header")
    # a route without rewrites sends the path as it came
    line, h = upstream(env.get("/echo?z"))
    eq((line, h.get("x-envoy-original-path")), ("GET /echo?z HTTP/1.1",
       None), "no rewrite")


DIRECT_BODIES = configs.one_vhost("""\
              - match: { path: "/file" }
                direct_response:
                  status: 200
                  body: { filename: "{body_file}" }
              - match: { path: "/bytes" }
                direct_response:
                  status: 503
                  body: { inline_bytes: "c29ycnksIGNsb3NlZA==" }
""")


def test_direct_response_bodies_from_a_file_and_base64(env):
    env.start_backends()
    body_file = os.path.join(env.logdir, "maintenance.html")
    with open(body_file, "w") as f:
        f.write("<p>back soon</p>\n")
    cfg = env.write_config(DIRECT_BODIES, body_file=body_file)
    p = env.start_canaryd(cfg, concurrency=2)
    r = env.get("/file")
    eq((r.status, r.body), (200, b"<p>back soon</p>\n"), "body from a file")
    r = env.get("/bytes")
    eq((r.status, r.body), (503, b"sorry, closed"), "inline_bytes body")
    # the file is read when the configuration loads: SIGHUP reads it again
    with open(body_file, "w") as f:
        f.write("<p>open</p>\n")
    os.kill(p.pid, signal.SIGHUP)
    settle(lambda: env.stat("server.config_reload"), 1)
    got = settle(lambda: env.get("/file").body, b"<p>open</p>\n")
    eq(got, b"<p>open</p>\n", "the file's new body after SIGHUP")
