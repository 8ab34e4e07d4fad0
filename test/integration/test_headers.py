"""Configured header mutations, run from Envoy's own style of config
(test/configs/envoy-docs/header-manipulation.yaml): what the backend
receives and what the client gets, the levels in Envoy's order, the
append actions, %...% values (client address, start time, request id,
upstream host), a weighted cluster's own headers, and the response
mutations on local replies too."""

import os
import time

import configs
from itestlib import eq, expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "test", "configs", "envoy-docs")


def seen(r):
    """The backend's /echo: [(name, value)] as it received them."""
    return [(k.lower(), v) for k, v in r.json()["headers"]]


def values(r, name):
    return [v for k, v in seen(r) if k == name]


def test_request_headers_reach_the_backend_in_envoys_order(env):
    env.start_backends(args=["--extra_headers", "1"])
    env.start_canaryd(env.file_config(os.path.join(
        DOCS, "header-manipulation.yaml")), concurrency=2)
    before = time.time()
    r = env.get("/echo", headers={"X-User": "ann",
                                  "X-Internal-Secret": "s3cret"})
    eq(r.status, 200, "GET /echo status")
    got = seen(r)
    names = [k for k, _ in got]
    # route, then virtual host, then route configuration (later wins)
    added = [k for k in names if k in ("x-forwarded-user", "x-debug",
                                       "x-client-ip", "x-request-start")]
    eq(added, ["x-forwarded-user", "x-debug", "x-client-ip",
               "x-request-start"], "added request headers, in order")
    eq(values(r, "x-forwarded-user"), ["ann"], "%REQ(x-user)%")
    eq(values(r, "x-debug"), [""], "keep_empty_value")
    eq(values(r, "x-internal-secret"), [], "request_headers_to_remove")
    eq(values(r, "x-client-ip"), ["127.0.0.1"],
       "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")
    start = float(values(r, "x-request-start")[0])
    expect(before - 1 <= start <= time.time() + 1,
           "%%START_TIME(%%s.%%3f)%% %r is not now" % start)
    expect(len(values(r, "x-request-start")[0].split(".")[1]) == 3,
           "three decimals: %r" % values(r, "x-request-start"))

    # ADD_IF_ABSENT keeps the client's; without use_remote_address the
    # client address is x-forwarded-for's last, as Envoy trusts it
    r = env.get("/echo", headers={"X-User": "ann",
                                  "X-Forwarded-User": "bob",
                                  "X-Forwarded-For": "198.51.100.7, "
                                                     "203.0.113.9"})
    eq(values(r, "x-forwarded-user"), ["bob"], "ADD_IF_ABSENT")
    eq(values(r, "x-client-ip"), ["203.0.113.9"],
       "client address from x-forwarded-for")
    # a value with nothing to say is not added
    r = env.get("/echo")
    eq(values(r, "x-forwarded-user"), [], "empty %REQ()% not added")


def test_response_headers_reach_the_client(env):
    v1, v2 = env.start_backends(args=["--extra_headers", "1"])
    env.start_canaryd(env.file_config(os.path.join(
        DOCS, "header-manipulation.yaml")), concurrency=2)
    r = env.get("/echo")
    eq(r.status, 200, "GET /echo status")
    eq(r.header("x-request-id"), values(r, "x-request-id")[0],
       "%REQ(x-request-id)% is the id the backend got")
    eq(r.header("x-upstream"), "127.0.0.1:%d 200" % v1.port,
       "%UPSTREAM_HOST% %RESPONSE_CODE%")
    eq(r.header("x-served-by"), "edge-proxy", "route configuration level")
    eq(r.header("x-powered-by"), None, "virtual host removal")
    eq(r.header("cache-control"), "no-store", "OVERWRITE_IF_EXISTS")
    eq(r.header("x-envoy-upstream-service-time"), None,
       "x-envoy-upstream-service-time removed")
    eq(r.header("server"), "canaryd", "server stays server_name's")
    eq(r.header("x-backend"), "v1", "backend headers pass")

    # a weighted cluster's headers apply on its picks only; 50/50 exact
    seen_versions = {}
    for _ in range(4):
        r = env.get("/shop")
        seen_versions.setdefault(r.header("x-version"), []).append(
            values(r, "x-canary"))
    eq(sorted(seen_versions), ["v1", "v2"], "x-version per cluster")
    eq(seen_versions["v1"], [[], []], "v1 gets no x-canary")
    eq(seen_versions["v2"], [["true"], ["true"]], "v2 gets x-canary")
    # the route without OVERWRITE_IF_EXISTS's header: cache-control kept
    eq(r.header("cache-control"), "max-age=60", "no mutation on /shop")
    eq(r.header("x-served-by"), "edge-proxy", "global level on /shop")
    # OVERWRITE_IF_EXISTS finds no cache-control when the backend sent none
    v1.ctl(extra_headers=0)
    eq(env.get("/echo").header("cache-control"), None,
       "OVERWRITE_IF_EXISTS adds nothing")


ROUTE_REPLIES = configs.one_vhost("""\
              - match: { prefix: "/down" }
                route: { cluster: backend_v2, timeout: 2s }
                response_headers_to_add:
                - header: { key: x-route, value: "down %RESPONSE_CODE%" }
              - match: { prefix: "/moved" }
                redirect: { path_redirect: "/new" }
                response_headers_to_add:
                - header: { key: x-route, value: moved }
                response_headers_to_remove: [location]
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: hi } }
                response_headers_to_add:
                - header: { key: x-route, value: "%REQ(:path)%" }
""")


def test_local_replies_of_a_route_carry_its_headers(env):
    env.start_backend("v1")     # v2 is down: connect failures
    env.start_canaryd(env.write_config(ROUTE_REPLIES), concurrency=1)
    r = env.get("/down")
    eq(r.status, 503, "upstream down")
    eq(r.header("x-route"), "down 503", "a reset reply's headers")
    r = env.get("/moved")
    eq((r.status, r.header("location"), r.header("x-route")),
       (301, None, "moved"), "a redirect's, Location removable")
    r = env.get("/elsewhere?x=1")
    eq((r.status, r.body, r.header("x-route")),
       (200, b"hi", "/elsewhere?x=1"), "a direct response's")
