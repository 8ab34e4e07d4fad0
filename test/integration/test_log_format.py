"""Access log formats (a logger's log_format, FileAccessLog's deprecated
format fields), written as Envoy's documentation writes them: a text
line per request, a JSON object per request with Envoy's typed values
(numbers stay numbers, a missing value is null, omit_empty_values drops
it), each file in its own format beside one in the default format."""

import json
import os

import configs
from itestlib import eq, expect, wait_until

ROUTES = configs.one_vhost("""\
              - match: { prefix: "/echo" }
                route: { cluster: backend_v1 }
                name: echo_route
""")

LOGGERS = """\
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {text}
              log_format:
                text_format_source:
                  inline_string: "%START_TIME(%Y)% %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE% %REQ(X-TENANT)% %RESP(X-BACKEND)% %UPSTREAM_CLUSTER%\\n"
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {json}
              log_format:
                json_format:
                  status: "%RESPONSE_CODE%"
                  method: "%REQ(:METHOD)%"
                  path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"
                  tenant: "%REQ(X-TENANT)%"
                  line: "%REQ(:METHOD)% %REQ(X-TENANT)%"
                  bytes: { received: "%BYTES_RECEIVED%", sent: "%BYTES_SENT%" }
                  duration: "%DURATION%"
                  upstream: { cluster: "%UPSTREAM_CLUSTER%", host: "%UPSTREAM_HOST%" }
                  route: "%ROUTE_NAME%"
                  schema: 2
                  sampled: true
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {omit}
              log_format:
                omit_empty_values: true
                content_type: "application/json; charset=UTF-8"
                json_format:
                  code: "%RESPONSE_CODE%"
                  tenant: "%REQ(X-TENANT)%"
                  backend: "%RESP(X-BACKEND)%"
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {plain}
"""


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    expect(text == "" or text.endswith("\n"), "%s ends inside a line" % path)
    return text.splitlines()


def test_text_and_json_formats_each_to_its_file(env):
    env.start_backend("v1")
    names = {k: os.path.join(env.logdir, k + ".log")
             for k in ("text", "json", "omit", "plain")}
    for p in names.values():
        if os.path.exists(p):
            os.unlink(p)
    text = ROUTES.replace("          stat_prefix: ingress\n",
                          "          stat_prefix: ingress\n" + LOGGERS, 1)
    path = env.write_config(text, **names)
    env.start_canaryd(path, concurrency=2)
    c = env.client()
    n = 6
    for i in range(n):
        hdrs = {"X-Tenant": "t%d" % i} if i % 2 == 0 else {}
        r = c.get("/echo?i=%d" % i, headers=hdrs)
        eq(r.status, 200, "GET /echo")
    r = c.get("/nope")
    eq(r.status, 404, "GET /nope")
    c.close()
    total = n + 1
    for k in names:
        wait_until(lambda k=k: len(read(names[k])) >= total, 5.0,
                   "%d lines in %s" % (total, k))
        eq(len(read(names[k])), total, "one line per request in " + k)

    year = read(names["text"])[0].split(" ")[0]
    expect(year.isdigit() and len(year) == 4, "START_TIME(%%Y): %r" % year)
    texts = sorted(ln.split(" ", 1)[1] for ln in read(names["text"]))
    want = sorted(["GET /echo?i=%d 200 %s v1 backend_v1" % (
        i, "t%d" % i if i % 2 == 0 else "-") for i in range(n)] +
        ["GET /nope 404 - - -"])
    eq(texts, want, "text lines")

    objs = [json.loads(ln) for ln in read(names["json"])]
    by_path = {o["path"]: o for o in objs}
    for i in range(n):
        o = by_path["/echo?i=%d" % i]
        eq(list(o.keys()), ["status", "method", "path", "tenant", "line",
                            "bytes", "duration", "upstream", "route",
                            "schema", "sampled"], "keys in config order")
        eq(o["status"], 200, "RESPONSE_CODE is a number")
        eq(o["method"], "GET", "method")
        eq(o["tenant"], "t%d" % i if i % 2 == 0 else None,
           "a missing header alone is null")
        eq(o["line"], "GET t%d" % i if i % 2 == 0 else "GET -",
           "a missing header inside text is -")
        eq(o["bytes"]["received"], 0, "nested BYTES_RECEIVED")
        expect(isinstance(o["bytes"]["sent"], int) and
               o["bytes"]["sent"] > 0, "BYTES_SENT a number")
        expect(isinstance(o["duration"], int), "DURATION a number")
        eq(o["upstream"], {"cluster": "backend_v1",
                           "host": "127.0.0.1:%d" % env.v1_port},
           "nested upstream")
        eq(o["route"], "echo_route", "ROUTE_NAME")
        eq((o["schema"], o["sampled"]), (2, True), "literal values")
    nr = by_path["/nope"]
    eq((nr["status"], nr["upstream"]["cluster"], nr["upstream"]["host"]),
       (404, None, None), "404: no upstream, null")

    omit = [json.loads(ln) for ln in read(names["omit"])]
    with_t = [o for o in omit if "tenant" in o]
    eq(len(with_t), 3, "omit_empty_values: tenant only where sent")
    for o in omit:
        expect(o["code"] in (200, 404), "code %r" % o["code"])
        eq(o.get("backend"), "v1" if o["code"] == 200 else None,
           "RESP(X-BACKEND), omitted on the 404")
    for ln in read(names["plain"]):
        expect(ln.startswith("[") and '"GET ' in ln,
               "the default format beside them: %r" % ln)


def test_deprecated_fields_and_refusals(env):
    env.start_backend("v1")
    j = os.path.join(env.logdir, "dep.log")
    if os.path.exists(j):
        os.unlink(j)
    logger = """\
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: {j}
              json_format:
                code: "%RESPONSE_CODE%"
                agent: "%REQ(USER-AGENT)%"
"""
    text = ROUTES.replace("          stat_prefix: ingress\n",
                          "          stat_prefix: ingress\n" + logger, 1)
    path = env.write_config(text, j=j)
    env.start_canaryd(path)
    r = env.get("/echo", headers={"User-Agent": "dep-ua"})
    eq(r.status, 200, "GET /echo")
    wait_until(lambda: len(read(j)) >= 1, 5.0, "a line")
    eq(json.loads(read(j)[0]), {"code": "200", "agent": "dep-ua"},
       "deprecated json_format: every value a string")

    bad = logger.replace("json_format:\n                code:",
                         "log_format:\n                formatters: []\n"
                         "                text_format_source: { inline_bytes: eA== }\n"
                         "                json_format:\n                  code:")
    bad = bad.replace('                agent: "%REQ(USER-AGENT)%"\n',
                      '                  agent: "%REQ(USER-AGENT)% %BOGUS%"\n')
    text = ROUTES.replace("          stat_prefix: ingress\n",
                          "          stat_prefix: ingress\n" + bad, 1)
    path = env.write_config(text, j=j)
    st, _, err = env.run([env.canaryd_bin, "--mode", "validate", "-f",
                          path])
    expect(st != 0, "a bad format is refused")
    for want in ("log_format.formatters", "log_format.text_format_source",
                 "inline_bytes", "json_format.agent", "unknown command"):
        expect(want in err, "%r in %s" % (want, err))


def test_admin_access_log_in_a_json_format(env):
    env.start_backend("v1")
    a = os.path.join(env.logdir, "admin-json.log")
    if os.path.exists(a):
        os.unlink(a)
    text = ROUTES.replace("admin:\n", """admin:
  access_log:
  - name: envoy.access_loggers.file
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
      path: {a}
      log_format:
        json_format: { path: "%REQ(:PATH)%", code: "%RESPONSE_CODE%", who: "%REQ(X-WHO)%" }
""", 1)
    env.start_canaryd(env.write_config(text, a=a), concurrency=1)
    base = len(read(a))                 # the readiness probes
    r = env.admin("/server_info")
    eq(r.status, 200, "admin /server_info")
    wait_until(lambda: len(read(a)) > base, 5.0, "an admin line")
    objs = [json.loads(ln) for ln in read(a)[base:]]
    eq(objs[-1], {"path": "/server_info", "code": 200, "who": None},
       "the admin's line in its JSON format")
