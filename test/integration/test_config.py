"""canaryd --mode validate: every error of a file in one run, each with
FILE:line:col; the user's seed file is OK."""

import re

from itestlib import SEED_CONFIG, eq, expect


def line_of(text, needle):
    for i, ln in enumerate(text.splitlines(), 1):
        if needle in ln:
            return i
    raise AssertionError("%r not in the config" % needle)


def test_validate_reports_every_error(env):
    with open(SEED_CONFIG) as f:
        seed = f.read()
    # Three independent mistakes in one file.
    bad = seed.replace("    type: STRICT_DNS\n",
                       "    type: STRICT_DNS\n    bogus_field: 1\n", 1)
    bad = bad.replace("connect_timeout: 2s", "connect_timeout: 250ms", 1)
    bad = bad.replace("route:\n                  cluster: backend_v1",
                      "route:\n                  cluster: backend_v9", 1)
    for needle in ("bogus_field", "250ms", "backend_v9"):
        expect(needle in bad, "test setup: %s not placed" % needle)
    path = env.write_config(bad, "bad.yaml")
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate",
                            "-f", path])
    eq(st, 1, "exit status (stderr: %r)" % err[-500:])
    for needle, words in (("bogus_field", ("bogus_field",)),
                          ("250ms", ("connect_timeout", "duration")),
                          ("backend_v9", ("backend_v9",))):
        ln = line_of(bad, needle)
        pat = r"^.*%s:%d:[0-9]+:.*$" % (re.escape(path), ln)
        hits = re.findall(pat, err, re.M)
        expect(hits, "no '%s:%d:col:' error for %s in stderr:\n%s" %
               (path, ln, needle, err))
        expect(any(w in h for h in hits for w in words),
               "error at line %d does not name %s: %r" % (ln, words, hits))


def test_validate_seed_is_ok(env):
    st, out, err = env.run([env.canaryd_bin, "--mode", "validate",
                            "-f", SEED_CONFIG])
    eq(st, 0, "exit status (stderr: %r)" % err[-500:])
    want = "configuration '%s' OK" % SEED_CONFIG
    expect(want in out + err, "no %r in the output: %r" % (want, out + err))
