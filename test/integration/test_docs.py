"""The man pages: lint clean, every field the config loader accepts is
documented in canaryd.yaml(5), and `make install` into a DESTDIR gives a
binary, both pages, the sample config and the systemd unit."""

import os
import re
import shutil
import subprocess
import tempfile

from itestlib import TestFailure, eq, expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PAGES = [os.path.join(ROOT, "man", p) for p in ("canaryd.8",
                                                 "canaryd.yaml.5")]


def make_build_args(env):
    """Install the binary the suite is testing (plain or sanitizer build)."""
    rel = os.path.relpath(os.path.abspath(env.build), ROOT)
    return (["SANITIZE=1"] if rel == "build/san" else []) + ["BUILD=" + rel]


def test_man_pages_lint_clean(env):
    if shutil.which("mandoc") is None:
        raise TestFailure("mandoc missing: tools/deps.sh installs it")
    st, out, err = env.run(["mandoc", "-Tlint", "-Wwarning"] + PAGES)
    eq((st, out + err), (0, ""), "mandoc -Tlint -Wwarning")


def test_every_config_field_is_documented(env):
    # `canaryd --mode schema` prints every field the loader accepts, from
    # the tables it loads with: a "#" header, then one line a field, its
    # path first ("static_resources.clusters[].connect_timeout"), columns
    # separated by tabs.  A field is documented when its name is a word of
    # the page.
    st, out, err = env.run([env.canaryd_bin, "--mode", "schema"])
    eq(st, 0, "canaryd --mode schema exit status: " + err)
    paths = [line.split("\t")[0] for line in out.splitlines()
             if line and not line.startswith("#")]
    fields = set(p.rsplit(".", 1)[-1].replace("[]", "") for p in paths)
    expect(len(fields) > 100, "field names in the schema: %d" % len(fields))
    with open(PAGES[1]) as f:
        words = set(re.findall(r"[A-Za-z0-9_]+", f.read()))
    missing = sorted(fields - words)
    eq(missing, [], "fields the loader accepts but canaryd.yaml(5) omits")


def test_install_into_destdir(env):
    dest = tempfile.mkdtemp(prefix="canaryd-install-")
    try:
        st = subprocess.run(["make", "-s", "-C", ROOT, "install",
                             "PREFIX=/usr/local", "DESTDIR=" + dest,
                            ] + make_build_args(env), capture_output=True,
                            timeout=120)
        eq(st.returncode, 0, "make install: %s" % st.stderr.decode()[-500:])
        for rel in ("usr/local/sbin/canaryd",
                    "usr/local/share/man/man8/canaryd.8",
                    "usr/local/share/man/man5/canaryd.yaml.5",
                    "usr/local/lib/systemd/system/canaryd.service",
                    "etc/canary/envoy-canary.yaml"):
            expect(os.path.isfile(os.path.join(dest, rel)),
                   "%s installed" % rel)
        unit = open(os.path.join(dest, "usr/local/lib/systemd/system/"
                                 "canaryd.service")).read()
        expect("ExecStart=/usr/local/sbin/canaryd -f" in unit and
               "ExecReload=/bin/kill -HUP $MAINPID" in unit,
               "unit's ExecStart/ExecReload:\n" + unit)
        # an operator's edited config survives a second install
        cfg = os.path.join(dest, "etc/canary/envoy-canary.yaml")
        with open(cfg, "a") as f:
            f.write("# edited\n")
        subprocess.run(["make", "-s", "-C", ROOT, "install",
                        "PREFIX=/usr/local", "DESTDIR=" + dest,
                       ] + make_build_args(env), capture_output=True,
                       timeout=120, check=True)
        expect(open(cfg).read().endswith("# edited\n"),
               "install overwrote an existing config")
        st, out, err = env.run([os.path.join(dest, "usr/local/sbin/canaryd"),
                                "--mode", "validate", "-f", cfg])
        eq(st, 0, "installed canaryd validates the installed config: " + err)
        # the page renders, and man finds it under the prefix
        st, out, err = env.run(["mandoc", "-Tutf8", os.path.join(
            dest, "usr/local/share/man/man8/canaryd.8")])
        eq(st, 0, "mandoc renders canaryd.8")
        expect("pre-fork HTTP/1.1 reverse proxy" in out, "NAME line")
        if shutil.which("man"):
            p = subprocess.run(["man", "-w", "canaryd"], capture_output=True,
                               env=dict(os.environ, MANPATH=os.path.join(
                                   dest, "usr/local/share/man")), timeout=20)
            eq(p.returncode, 0, "man -w canaryd with MANPATH under DESTDIR")
    finally:
        shutil.rmtree(dest, ignore_errors=True)
