"""The admin home page (issue 6, part 5): GET / is one self-contained
HTML page that polls /canary and /stats and draws every weighted route.
Rendered in headless Chromium (Debian's chromium package, installed by
tools/deps.sh): the DOM after the page's first polls must show the real
numbers /canary reports, and a screenshot goes to the test's log
directory (page.png) and stays as build/page-screenshot.png."""

import os
import re
import shutil

from itestlib import TestFailure, eq, expect, settle

from test_rollout import rollout_config

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium(env, url, *args):
    """Run headless Chromium on url; returns its stdout.  Fails (never
    skips) when it is not installed: the page must be tested."""
    exe = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)),
               None)
    if exe is None:
        raise TestFailure("chromium not found: install Debian's chromium "
                          "package (tools/deps.sh does it as root)")
    profile = os.path.join(env.logdir, "chromium-profile")
    argv = [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-extensions",
            "--user-data-dir=" + profile,
            # a few of the page's one-second polls, in virtual time
            "--virtual-time-budget=4000"] + list(args) + [url]
    st, out, err = env.run(argv, timeout=30)
    if st != 0:
        raise TestFailure("chromium exited %d:\n%s" % (st, err[-2000:]))
    return out


def cells(dom, cluster):
    """{data-k: text} of the table row of cluster."""
    m = re.search(r'<tr data-cluster="%s">(.*?)</tr>' % re.escape(cluster),
                  dom, re.S)
    if m is None:
        raise TestFailure("no row for %s in the rendered page:\n%s" %
                          (cluster, dom[-3000:]))
    return dict(re.findall(r'data-k="(\w+)"[^>]*>([^<]*)<', m.group(1)))


def test_page_renders_real_numbers(env):
    env.start_backends()
    # a long window: the figures stay put between the page's poll and ours
    env.start_canaryd(rollout_config(env, interval="600s", window="60s"),
                      concurrency=2)
    eq(env.versions(50), {"v1": 45, "v2": 5}, "50 GET /api")
    settle(lambda: env.admin_json("/canary")["routes"][0]["clusters"]
           ["backend_v2"]["total_requests"], 5)

    r = env.admin("/")
    eq(r.status, 200, "GET /")
    expect(r.header("content-type", "").startswith("text/html"),
           "content type %r" % r.header("content-type"))
    expect(not re.search(r'(src|href)="(https?:)?//', r.text),
           "the page loads nothing from elsewhere")
    expect('<a href="/stats">' in r.text, "endpoint table in the page")

    url = "http://127.0.0.1:%d/" % env.admin_port
    dom = chromium(env, url, "--dump-dom")
    j = env.admin_json("/canary")["routes"][0]
    expect('data-route="web"' in dom, "route box in the DOM:\n" +
           dom[-3000:])
    for c in ("backend_v1", "backend_v2"):
        got = cells(dom, c)
        f = j["clusters"][c]
        eq(got.get("weight"), str(j["weights"][c]), "%s weight" % c)
        eq(got.get("total_requests"), str(f["total_requests"]),
           "%s total requests" % c)
        eq(got.get("requests"), str(f["requests"]), "%s window requests"
           % c)
        eq(got.get("success_rate"), "100.00%", "%s success rate" % c)
        eq(got.get("p99_ms"), "%.3f" % f["p99_ms"], "%s p99" % c)
        eq(got.get("hosts"), "1/1", "%s hosts healthy/total" % c)
        eq(got.get("breakers"), "closed", "%s breakers" % c)
    eq(cells(dom, "backend_v1")["total_requests"], "45", "v1 total")
    eq(cells(dom, "backend_v2")["total_requests"], "5", "v2 total")
    m = re.search(r'data-k="state">(\w+)<', dom)
    eq(m and m.group(1), j["rollout"]["state"], "rollout state")
    eq(len(re.findall(r'data-action="(pause|resume|promote|rollback)"',
                      dom)), 4, "rollout buttons")
    eq(len(re.findall(r'data-chart="', dom)), 4, "charts")
    expect("<polyline" in dom, "chart lines drawn")

    shot = os.path.join(env.logdir, "page.png")
    chromium(env, url, "--hide-scrollbars", "--window-size=1280,900",
             "--screenshot=" + shot)
    expect(os.path.exists(shot), "screenshot %s written" % shot)
    with open(shot, "rb") as fp:
        head = fp.read(8)
    eq(head, b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
    expect(os.path.getsize(shot) > 10000, "screenshot size %d" %
           os.path.getsize(shot))
    # the run's logs go when it passes: keep the picture in the build tree
    keep = os.path.join(env.build, "page-screenshot.png")
    shutil.copyfile(shot, keep)
    print("    screenshot: %s" % keep)
