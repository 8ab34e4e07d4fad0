"""Admin that only its operators can drive (canaryd(8), ADMIN INTERFACE):
read-only endpoints answer anyone; POSTs answer the allowed addresses
(loopback by default, --admin-allow) or a client with the bearer token
(--admin-token-file), 403 otherwise, counted.  A flood of half-sent heads
never locks out /ready: the oldest waiting connection makes room."""

import os
import socket
import time

from itestlib import LOOPBACK, eq, expect, wait_until

TOKEN = "c4n4ryd-0p3r4t0r-t0k3n-3f1c"


def admin_req(env, method, path, src=LOOPBACK, headers=(), timeout=5.0):
    """(status, body) of one request to the admin port from address
    src (another 127.0.0.0/8 address plays a remote peer)."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((LOOPBACK, env.admin_port))
    head = "%s %s HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n" % (method,
                                                                   path)
    for h in headers:
        head += h + "\r\n"
    s.sendall((head + "Connection: close\r\n\r\n").encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def write_token(env, mode):
    path = os.path.join(env.logdir, "admin.token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, mode)
    return path


def test_posts_need_an_allowed_address_or_the_token(env):
    env.start_backends()
    tok = write_token(env, 0o600)
    env.start_canaryd(env.seed_config(), args=(
        "--admin-allow", "127.0.0.1/32", "--admin-token-file", tok))
    # anyone reads
    eq(admin_req(env, "GET", "/ready", src="127.0.0.2")[0], 200,
       "GET /ready from 127.0.0.2")
    # a POST from outside the list changes nothing
    st, body = admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2")
    eq((st, body), (403, b"RBAC: access denied"), "POST from 127.0.0.2")
    eq(admin_req(env, "GET", "/ready")[0], 200, "/ready after the 403")
    eq(admin_req(env, "POST", "/quitquitquit", src="127.0.0.2")[0], 403,
       "POST /quitquitquit from 127.0.0.2")
    eq(admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2",
                 headers=("Authorization: Bearer wrong",))[0], 403,
       "a wrong token")
    eq(env.stat("http.admin.rbac.denied"), 3, "http.admin.rbac.denied")
    # the token lets in from anywhere; the allowed address without it
    eq(admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2",
                 headers=("Authorization: Bearer " + TOKEN,))[0], 200,
       "POST with the token from 127.0.0.2")
    st, body = admin_req(env, "GET", "/ready")
    eq((st, body), (503, b"DRAINING\n"), "/ready after the POST")
    eq(admin_req(env, "POST", "/healthcheck/ok")[0], 200,
       "POST from 127.0.0.1")
    eq(env.stat("http.admin.rbac.denied"), 3, "no more denials")


def test_default_is_loopback_only(env):
    env.start_backends()
    cfg = env.seed_config()
    # the admin on every address; only loopback peers may POST
    with open(cfg) as f:
        text = f.read()
    text = text.replace("address: %s, port_value: %d" % (LOOPBACK,
                        env.admin_port), "address: 0.0.0.0, port_value: %d"
                        % env.admin_port)
    with open(cfg, "w") as f:
        f.write(text)
    env.start_canaryd(cfg)
    eq(admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2")[0],
       200, "127.0.0.2 is loopback: allowed by default")
    eq(admin_req(env, "POST", "/healthcheck/ok")[0], 200, "127.0.0.1")


def test_token_file_readable_by_others_is_refused(env):
    env.start_backends()
    tok = write_token(env, 0o644)
    st, out, err = env.run([env.canaryd_bin, "-f", env.seed_config(),
                            "--admin-token-file", tok, "--state-dir",
                            env.logdir], timeout=10)
    expect(st != 0, "canaryd started with a world-readable token file")
    expect("readable by its group or others (mode 644): chmod 600 it" in
           err, "the reason: " + err[-800:])
    st, out, err = env.run([env.canaryd_bin, "-f", env.seed_config(),
                            "--admin-allow", "10.0.0.1/8"])
    eq(st, 1, "a bad --admin-allow")
    expect("--admin-allow 10.0.0.1/8: bits are set past the prefix "
           "length" in err, "its message: " + err)


def test_half_sent_heads_never_lock_out_ready(env):
    env.start_backends()
    env.start_canaryd(env.seed_config())
    flood = []
    t0 = time.monotonic()
    try:
        for i in range(3000):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect((LOOPBACK, env.admin_port))
            except BlockingIOError:
                pass
            flood.append(s)
        # each sends half a head, then nothing
        for s in flood:
            try:
                s.send(b"GET /stats HTTP/1.1\r\nHo")
            except OSError:
                pass
        opened = time.monotonic() - t0
        worst = 0.0
        for _ in range(5):
            a = time.monotonic()
            st, body = admin_req(env, "GET", "/ready", timeout=2.0)
            worst = max(worst, time.monotonic() - a)
            eq((st, body), (200, b"LIVE\n"), "/ready during the flood")
        st, _ = admin_req(env, "GET", "/" + "a" * 100000)
        eq(st, 414, "a 100 KB URL during the flood")
        st, _ = admin_req(env, "GET", "/stats", headers=(
            "X-Big: " + "b" * 70000,))
        eq(st, 431, "a 70 KB header during the flood")
        expect(worst < 0.1, "/ready took %.3f s" % worst)
        expect(env.stat("http.admin.downstream_cx_evicted") > 2000,
               "evictions counted")
        print("    3000 half-open admin connections opened in %.2f s; "
              "/ready answered in %.1f ms at worst" % (opened,
                                                      worst * 1000))
    finally:
        for s in flood:
            s.close()


test_half_sent_heads_never_lock_out_ready.serial = True  # load: runs alone


def test_a_head_that_never_ends_is_closed(env):
    env.start_backends()
    env.start_canaryd(env.seed_config())
    s = socket.create_connection((LOOPBACK, env.admin_port))
    s.sendall(b"GET /stats HTTP/1.1\r\nHost: a\r\n")
    s.settimeout(15)
    t0 = time.monotonic()
    try:
        got = s.recv(100)
    except ConnectionResetError:
        got = b""
    took = time.monotonic() - t0
    s.close()
    eq(got, b"", "the server closed the connection")
    expect(9 <= took <= 12, "closed after %.1f s (the head timeout is "
           "10 s)" % took)
    wait_until(lambda: env.stat("http.admin.downstream_rq_header_timeout")
               == 1, 2, "http.admin.downstream_rq_header_timeout 1")


def test_access_from_the_config(env):
    env.start_backends()
    tok = write_token(env, 0o600)
    cfg = env.seed_config()
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write("node:\n  id: edge-1\n  metadata:\n    canaryd:\n"
                "      admin:\n        allow: [127.0.0.1/32]\n"
                "        token_file: %s\n" % tok + text)
    env.start_canaryd(cfg)
    eq(admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2")[0],
       403, "POST from 127.0.0.2, allow [127.0.0.1/32]")
    eq(admin_req(env, "POST", "/healthcheck/fail", src="127.0.0.2",
                 headers=("Authorization: Bearer " + TOKEN,))[0], 200,
       "with the token_file's token")
    eq(admin_req(env, "POST", "/healthcheck/ok")[0], 200, "from 127.0.0.1")
