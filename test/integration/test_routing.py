"""Route matching of our own config: path, prefix, headers, safe_regex,
two virtual hosts by domain; an unmatched path is a 404 with an empty body
counted in http.ingress.no_route."""

import configs
from itestlib import V1_BODY, V2_BODY, eq, settle

ROUTES = configs.with_vhosts("""\
            - name: canary_host
              domains: ["canary.example.com"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend_v2 }
            - name: main
              domains: ["*"]
              routes:
              - match: { path: "/exact" }
                route: { cluster: backend_v2 }
              - match:
                  prefix: "/h"
                  headers:
                  - name: x-canary
                    string_match: { exact: "yes" }
                route: { cluster: backend_v2 }
              - match:
                  safe_regex: { regex: "/re/[0-9]+" }
                route: { cluster: backend_v2 }
              - match: { prefix: "/api" }
                route: { cluster: backend_v1 }
              - match: { prefix: "/h" }
                route: { cluster: backend_v1 }
""")

# (path, request headers, expected body; None: 404 no route)
CASES = [
    ("/exact", {}, V2_BODY),
    ("/exact?q=1", {}, V2_BODY),        # path match ignores the query
    ("/exact/more", {}, None),          # ... but is exact
    ("/api", {}, V1_BODY),
    ("/api/users/7", {}, V1_BODY),
    ("/apix", {}, V1_BODY),             # prefix is a string prefix
    ("/hello", {"x-canary": "yes"}, V2_BODY),
    ("/hello", {"x-canary": "no"}, V1_BODY),
    ("/hello", {}, V1_BODY),
    ("/re/123", {}, V2_BODY),
    ("/re/12a", {}, None),              # safe_regex is a full match
    ("/x/re/1", {}, None),
    ("/nothing", {}, None),
    ("/", {}, None),
    ("/nothing", {"Host": "canary.example.com"}, V2_BODY),
    ("/api", {"Host": "canary.example.com"}, V2_BODY),
    ("/api", {"Host": "other.example.com"}, V1_BODY),
]


def test_route_table_matches(env):
    env.start_backends()
    env.start_canaryd(env.write_config(ROUTES), concurrency=2)
    before = env.stat("http.ingress.no_route")
    misses = 0
    for path, headers, want in CASES:
        r = env.get(path, headers=headers)
        what = "GET %s %s" % (path, headers or "")
        if want is None:
            misses += 1
            eq(r.status, 404, what + " status")
            eq(r.body, b"", what + " body")
        else:
            eq(r.status, 200, what + " status")
            eq(r.body, want, what + " body")
    got = settle(lambda: env.stat("http.ingress.no_route") - before,
                 misses)
    eq(got, misses, "http.ingress.no_route increase")
