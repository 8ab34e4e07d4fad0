"""Per-cluster latency histograms, cluster.<name>.upstream_rq_time (issue
6 section 5): /stats text with interval and cumulative quantiles, the
JSON "histograms" element and Prometheus buckets, over the user's config
with a slow canary, and only final responses counted (not retries)."""

import re
import time

from itestlib import TestFailure, eq, expect, settle

QUANTILES = ["0", "25", "50", "75", "90", "95", "99", "99.5", "99.9", "100"]


def hist_line(env, cluster):
    """{quantile: (interval, cumulative)} from the /stats text line, or
    the rest of the line when it has no quantiles."""
    name = "cluster.%s.upstream_rq_time" % cluster
    for ln in env.admin("/stats?type=Histograms").text.splitlines():
        if ln.startswith(name + ": "):
            rest = ln[len(name) + 2:]
            pairs = re.findall(r"P([0-9.]+)\(([^,]+),([^)]+)\)", rest)
            if not pairs:
                return rest
            eq([p[0] for p in pairs], QUANTILES, "%s quantiles" % name)
            return {p[0]: (float(p[1]), float(p[2])) for p in pairs}
    raise TestFailure("no %s line in /stats" % name)


def prom_value(text, series):
    m = re.search(r"^%s (\S+)$" % re.escape(series), text, re.M)
    expect(m, "no Prometheus series %s" % series)
    return float(m.group(1))


def test_upstream_rq_time_per_cluster(env):
    env.start_backend("v1")
    v2 = env.start_backend("v2", args=["--delay_ms", "40"])
    env.start_canaryd(env.seed_config(), concurrency=2)
    eq(hist_line(env, "backend_v2"), "No recorded values",
       "backend_v2 before any request")

    eq(env.versions(40), {"v1": 36, "v2": 4}, "40 GET /api")

    def counts():
        t = env.admin("/stats/prometheus").text
        return tuple(int(prom_value(t, "envoy_cluster_upstream_rq_time_count"
            '{envoy_cluster_name="%s"}' % c)) for c in ("backend_v1",
            "backend_v2"))
    eq(settle(counts, (36, 4)), (36, 4), "upstream_rq_time counts")

    # Text: the canary's 40 ms delay shows in its quantiles, not v1's.
    h1, h2 = hist_line(env, "backend_v1"), hist_line(env, "backend_v2")
    expect(38 <= h2["50"][1] <= 500, "backend_v2 P50 %r" % (h2["50"],))
    expect(h2["0"][1] <= h2["50"][1] <= h2["100"][1],
           "backend_v2 quantiles not ordered: %r" % h2)
    expect(h1["99"][1] < 38, "backend_v1 P99 %r" % (h1["99"],))

    # Prometheus: cumulative buckets at Envoy's bounds, +Inf = count.
    t = env.admin("/stats/prometheus").text
    expect("# TYPE envoy_cluster_upstream_rq_time histogram\n" in t,
           "no histogram TYPE line")
    v2s = '{envoy_cluster_name="backend_v2",le="%s"}'
    eq(prom_value(t, "envoy_cluster_upstream_rq_time_bucket" + v2s % "25"),
       0, "backend_v2 requests under 25 ms")
    eq(prom_value(t, "envoy_cluster_upstream_rq_time_bucket" + v2s % "+Inf"),
       4, "backend_v2 le=+Inf")
    s = prom_value(t, 'envoy_cluster_upstream_rq_time_sum'
                   '{envoy_cluster_name="backend_v2"}')
    expect(160 <= s <= 2000, "backend_v2 _sum %r ms" % s)
    prev = -1
    for le in ("0.5", "1", "5", "10", "25", "50", "100", "250", "500",
               "1000", "2500", "5000", "10000", "30000", "60000", "300000",
               "600000", "1800000", "3600000", "+Inf"):
        n = prom_value(t, "envoy_cluster_upstream_rq_time_bucket"
                       '{envoy_cluster_name="backend_v1",le="%s"}' % le)
        expect(n >= prev, "backend_v1 buckets not cumulative at le=%s" % le)
        prev = n
    eq(prev, 36, "backend_v1 le=+Inf")

    # JSON: the histograms element with Envoy's supported quantiles.
    j = env.admin_json("/stats?format=json&filter=upstream_rq_time$")
    hs = [e["histograms"] for e in j["stats"] if "histograms" in e]
    eq(len(hs), 1, "one histograms element")
    eq(hs[0]["supported_quantiles"],
       [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100], "supported_quantiles")
    cq = {c["name"]: c["values"] for c in hs[0]["computed_quantiles"]}
    eq(sorted(cq), ["cluster.backend_v1.upstream_rq_time",
                    "cluster.backend_v2.upstream_rq_time"], "histogram names")
    eq(cq["cluster.backend_v2.upstream_rq_time"][2]["cumulative"],
       h2["50"][1], "JSON and text backend_v2 P50")

    # The interval column fills at the next 5 s flush.
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        h2 = hist_line(env, "backend_v2")
        if h2["50"][0] == h2["50"][0]:  # not nan
            break
        time.sleep(0.25)
    expect(38 <= h2["50"][0] <= 500, "backend_v2 interval P50 %r" % (
        h2["50"],))

    # A retried attempt is not a response: v2 answers 503 and each
    # request to it is tried 3 times (retry_on 5xx, num_retries 2), but
    # adds one sample.
    v2.ctl(delay_ms=0, status=503)
    got = env.versions(10)
    eq(got.get("v1"), 9, "10 more GET /api: %r" % got)
    eq(settle(counts, (45, 5)), (45, 5),
       "upstream_rq_time counts after a retried request")
    eq(env.stat("cluster.backend_v2.retry.upstream_rq_503"), 2,
       "retried v2 responses")


test_upstream_rq_time_per_cluster.serial = True  # load: runs alone
