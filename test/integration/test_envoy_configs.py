"""Envoy's own example configurations (test/configs/envoy-docs/): each
either loads or is refused, and `canaryd --mode validate` prints exactly
the diagnostics its .expect file holds, so the messages a user coming
from Envoy meets first are pinned.  Also the node on /server_info and in
the first log line, --service-node and --service-cluster, and
headers_with_underscores_action on the data path."""

import glob
import os

import configs
from itestlib import eq, expect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "test", "configs", "envoy-docs")


def test_envoy_doc_configs_load_or_say_why(env):
    files = sorted(glob.glob(os.path.join(DOCS, "*.yaml")))
    expect(len(files) >= 10, "envoy-docs configs: %d" % len(files))
    loaded = 0
    for path in files:
        name = os.path.basename(path)
        with open(path[:-len(".yaml")] + ".expect") as f:
            want = f.read()
        st, out, err = env.run([env.canaryd_bin, "--mode", "validate",
                                "-f", path])
        # the .expect files were made in DOCS, naming the file alone
        eq((err + out).replace(path, name), want,
           "canaryd --mode validate -f %s" % name)
        eq(st, 1 if " error: " in want else 0, name + " exit status")
        loaded += st == 0
        # every refusal says what to do: "not supported by canaryd"
        # is followed by its reason
        for line in want.splitlines():
            if "not supported by canaryd" in line:
                expect(line.rstrip().endswith("not supported by canaryd")
                       is False, name + ": refusal without a reason: " +
                       line)
    expect(loaded >= 3, "envoy-docs configs that load: %d" % loaded)


NODE_CONFIG = """\
node:
  id: edge-7
  cluster: shop
  locality: { region: eu-west, zone: b }
  metadata: { team: web }
""" + configs.ALL_TO_V1


def test_node_in_server_info_and_first_log_line(env):
    env.start_backends()
    p = env.start_canaryd(env.write_config(NODE_CONFIG), concurrency=1,
                          args=["--service-cluster", "shop-canary"])
    j = env.admin_json("/server_info")
    node = j.get("node", {})
    eq(node.get("id"), "edge-7", "/server_info node.id (the file's)")
    eq(node.get("cluster"), "shop-canary",
       "/server_info node.cluster (--service-cluster over the file)")
    eq(node.get("locality"), {"region": "eu-west", "zone": "b",
                              "sub_zone": ""}, "/server_info locality")
    eq(node.get("metadata"), {"team": "web"}, "/server_info metadata")
    opts = j.get("command_line_options", {})
    eq((opts.get("service_node"), opts.get("service_cluster")),
       ("", "shop-canary"), "/server_info command_line_options")
    # /config_dump: the file's node, and what canaryd says of itself
    boot = env.admin_json("/config_dump")["configs"][0]["bootstrap"]
    eq((boot["node"].get("id"), boot["node"].get("cluster"),
        boot["node"].get("user_agent_name")), ("edge-7", "shop", "canaryd"),
       "/config_dump bootstrap node")
    lines = [ln for ln in p.output().splitlines() if "[info]" in ln]
    expect(lines and "node edge-7, cluster shop-canary:" in lines[0],
           "first log line names the node: %r" % lines[:1])


UNDERSCORES = configs.ALL_TO_V1.replace(
    "          stat_prefix: ingress\n",
    "          stat_prefix: ingress\n"
    "          common_http_protocol_options:\n"
    "            headers_with_underscores_action: %s\n")


def test_headers_with_underscores_drop_and_reject(env):
    env.start_backends()
    env.start_canaryd(env.write_config(UNDERSCORES % "DROP_HEADER"),
                      concurrency=1)
    r = env.get("/echo", headers={"X_Forwarded_User": "admin",
                                  "X-Keep": "k"})
    eq(r.status, 200, "DROP_HEADER: status")
    names = [k.lower() for k, v in r.json()["headers"]]
    expect("x_forwarded_user" not in names,
           "DROP_HEADER: the header reached the backend: %r" % names)
    expect("x-keep" in names, "DROP_HEADER: x-keep dropped too: %r" % names)
    env.proxy.stop()

    env.start_canaryd(env.write_config(UNDERSCORES % "REJECT_REQUEST",
                                       "reject.yaml"), concurrency=1)
    c = env.raw(timeout=5.0)
    try:
        c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nX_Forwarded_User: a\r\n"
               b"\r\n")
        data, closed = c.read_until_close()
    finally:
        c.close()
    expect(data.startswith(b"HTTP/1.1 400"),
           "REJECT_REQUEST: want a 400, got %r" % data[:80])
    expect(closed, "REJECT_REQUEST: connection left open after the 400")
    eq(env.get("/echo", headers={"X-Keep": "k"}).status, 200,
       "REJECT_REQUEST: a request without underscores")


EDGE = configs.ALL_TO_V1.replace(
    "          stat_prefix: ingress\n",
    "          stat_prefix: ingress\n"
    "          use_remote_address: true\n"
    "          skip_xff_append: %s\n")


def test_use_remote_address_appends_the_client_address(env):
    env.start_backends()
    env.start_canaryd(env.write_config(EDGE % "false"), concurrency=1)
    r = env.get("/echo", headers={"X-Forwarded-For": "192.0.2.1",
                                  "X-Forwarded-Proto": "https",
                                  "X-Request-Id": "from-the-client"})
    eq(r.status, 200, "edge request status")
    up = {}
    for k, v in r.json()["headers"]:
        up.setdefault(k.lower(), []).append(v)
    # a loopback peer is written as the address it reached
    eq(up.get("x-forwarded-for"), ["192.0.2.1, 127.0.0.1"],
       "upstream x-forwarded-for")
    eq(up.get("x-envoy-external-address"), ["127.0.0.1"],
       "upstream x-envoy-external-address")
    eq(up.get("x-forwarded-proto"), ["http"], "upstream x-forwarded-proto")
    rid = up.get("x-request-id", [])
    expect(len(rid) == 1 and rid[0] != "from-the-client",
           "an edge request's x-request-id is made anew: %r" % rid)
    env.proxy.stop()

    env.start_canaryd(env.write_config(EDGE % "true", "skip.yaml"),
                      concurrency=1)
    r = env.get("/echo", headers={"X-Forwarded-For": "192.0.2.1"})
    up = {}
    for k, v in r.json()["headers"]:
        up.setdefault(k.lower(), []).append(v)
    eq(up.get("x-forwarded-for"), ["192.0.2.1"],
       "skip_xff_append: x-forwarded-for as the client sent it")
    eq(up.get("x-envoy-external-address"), ["127.0.0.1"],
       "skip_xff_append: x-envoy-external-address")
