"""A small, strict reading of RFC 9112 (HTTP/1.1 message syntax and
framing) with canaryd's policies on top, in plain Python: the reference
the conformance runner (tools/conformance.py) computes each case's
expected outcome from, and the parser its recording backend reads what
the proxy sends with.  It shares no code with canaryd's C parser, so the
two can disagree, and each disagreement shows up as a failing case.

parse_requests(data) reads a client's byte stream as the proxy must:
it returns the complete, valid requests in order, then how the stream
ends: "ok" (at a message boundary), "incomplete" (inside a message) or
an error with the status a proxy answers (400, 501, ...) and why.
parse_response(data, head_request) does the same for one response.
"""

import re

TCHAR = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
VERSION = re.compile(rb"^HTTP/([0-9])\.([0-9])$")
HOST = re.compile(rb"^[A-Za-z0-9\-._~%!$&'()*+,;=:\[\]]*$")
CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
HEAD_END = re.compile(rb"\n\r?\n")

# http-parser's method table: any other token is a 400 in canaryd (and
# in Envoy, whose allow_custom_methods canaryd cannot offer).
METHODS = set(b"""DELETE GET HEAD POST PUT CONNECT OPTIONS TRACE COPY LOCK
MKCOL MOVE PROPFIND PROPPATCH SEARCH UNLOCK BIND REBIND UNBIND ACL REPORT
MKACTIVITY CHECKOUT MERGE M-SEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE PATCH PURGE
MKCALENDAR LINK UNLINK SOURCE""".split())


class Bad(Exception):
    def __init__(self, code, why):
        super().__init__(why)
        self.code = code
        self.why = why


class Incomplete(Exception):
    pass


class Msg:
    """One parsed message: start line parts, header list, decoded body."""

    def __init__(self):
        self.method = self.target = None
        self.status = None
        self.version = (1, 1)
        self.headers = []          # [(name bytes, value bytes)]
        self.body = b""
        self.chunked = False
        self.length = None
        self.raw = b""             # the bytes of the message as sent

    def get_all(self, name):
        return [v for n, v in self.headers if n.lower() == name]

    def __repr__(self):
        return "<%s %r %r>" % (self.method or self.status, self.target,
                               self.headers)


def _line(data, i):
    """The line at data[i:], without its end (CRLF or a bare LF), and the
    offset after it.  A CR that is not part of CRLF is an error."""
    j = data.find(b"\n", i)
    if j < 0:
        if b"\r" in data[i:] and not data.endswith(b"\r"):
            raise Bad(400, "CR not followed by LF")
        raise Incomplete()
    line = data[i:j]
    if line.endswith(b"\r"):
        line = line[:-1]
    if b"\r" in line:
        raise Bad(400, "CR not followed by LF")
    return line, j + 1


def _fields(data, i, code, trailer=False):
    """Field lines up to the empty line; returns (fields, offset)."""
    fields = []
    while True:
        line, i = _line(data, i)
        if line == b"":
            return fields, i
        if line[:1] in (b" ", b"\t"):
            raise Bad(code, "obs-fold")
        name, sep, value = line.partition(b":")
        if not sep or not TCHAR.match(name):
            raise Bad(code, "invalid field name %r" % name)
        value = value.strip(b" \t")
        if CTL.search(value):
            raise Bad(code, "control byte in a field value")
        fields.append((name, value))


def _chunked(data, i, code):
    """A chunked body from data[i:]; returns (decoded, offset).  Lines end
    in CRLF exactly; sizes are 1..16 hex digits."""
    body = b""
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            if b"\n" in data[i:] or len(data) - i > 1024:
                raise Bad(code, "chunk-size line")
            raise Incomplete()
        line = data[i:j]
        m = re.match(rb"^([0-9A-Fa-f]{1,16})[ \t]*(;[^\x00-\x08\x0a-\x1f"
                     rb"\x7f]*)?$", line)
        if not m:
            raise Bad(code, "chunk-size line %r" % line[:40])
        size = int(m.group(1), 16)
        i = j + 2
        if size == 0:
            break
        if len(data) < i + size + 2:
            if len(data) >= i + size and \
                    data[i + size:i + size + 2] != b"\r\n"[:len(data) -
                                                           i - size]:
                raise Bad(code, "chunk data not followed by CRLF")
            raise Incomplete()
        body += data[i:i + size]
        if data[i + size:i + size + 2] != b"\r\n":
            raise Bad(code, "chunk data not followed by CRLF")
        i += size + 2
    # trailer section: CRLF only, field lines without folding
    while True:
        j = data.find(b"\r\n", i)
        if j < 0:
            if b"\n" in data[i:] or b"\r" in data[i:-1]:
                raise Bad(code, "trailer line")
            raise Incomplete()
        line = data[i:j]
        i = j + 2
        if line == b"":
            return body, i
        name, sep, value = line.partition(b":")
        if b"\n" in line or b"\r" in line or not sep or \
                not TCHAR.match(name) or CTL.search(value):
            raise Bad(code, "trailer line")


def _length(msg, code):
    cls = msg.get_all(b"content-length")
    if not cls:
        return None
    if len(cls) > 1:
        raise Bad(code, "more than one content-length")
    if not re.match(rb"^[0-9]{1,15}$", cls[0]):
        raise Bad(code, "content-length %r" % cls[0])
    return int(cls[0])


def _request(data, i, lenient=False):
    msg = Msg()
    start = i
    while data[i:i + 2] == b"\r\n" or data[i:i + 1] == b"\n":
        i += 2 if data[i:i + 1] == b"\r" else 1
    if i >= len(data):
        return None, i
    if not HEAD_END.search(data, i):
        raise Incomplete()      # judged once it is whole
    line, i = _line(data, i)
    parts = line.split(b" ")
    if len(parts) != 3:
        raise Bad(400, "request-line %r" % line[:60])
    method, target, version = parts
    if not TCHAR.match(method):
        raise Bad(400, "method")
    if not target or re.search(rb"[\x00-\x20\x7f#]", target):
        raise Bad(400, "request-target")
    if target[:7].lower() == b"http://":
        auth = re.split(rb"[/?]", target[7:], maxsplit=1)[0]
        if b"@" in auth or not HOST.match(auth):
            raise Bad(400, "absolute-form authority")
    m = VERSION.match(version)
    if not m:
        raise Bad(400, "HTTP-version %r" % version)
    msg.method, msg.target = method, target
    msg.version = (int(m.group(1)), int(m.group(2)))
    msg.headers, i = _fields(data, i, 400)
    if method not in METHODS and not lenient:
        raise Bad(400, "extension method")
    if msg.version[0] != 1:
        raise Bad(400, "HTTP major version")
    hosts = msg.get_all(b"host")
    if len(hosts) > 1:
        raise Bad(400, "more than one Host")
    if hosts and not HOST.match(hosts[0]):
        raise Bad(400, "invalid Host")
    tes = msg.get_all(b"transfer-encoding")
    length = _length(msg, 400)
    if tes and length is not None:
        raise Bad(400, "both content-length and transfer-encoding")
    if tes:
        if len(tes) != 1 or tes[0].lower() != b"chunked":
            raise Bad(501, "transfer-encoding %r" % tes)
        msg.chunked = True
    if not hosts and msg.version == (1, 1):
        raise Bad(400, "no Host")
    if msg.chunked:
        msg.body, i = _chunked(data, i, 400)
    elif length:
        if len(data) < i + length:
            msg.raw = data[start:]
            msg.length = length
            raise Incomplete(msg)
        msg.body, i = data[i:i + length], i + length
    msg.length = length
    msg.raw = data[start:i]
    return msg, i


def parse_requests(data, lenient=False):
    """(requests, end, code, why, partial): end is "ok", "incomplete" or
    "error"; partial is a request whose head is complete and valid but
    whose body did not all arrive (a proxy forwards its head).  lenient:
    any method token (what a backend reads), not only http-parser's."""
    reqs, i = [], 0
    try:
        while True:
            msg, i = _request(data, i, lenient)
            if msg is None:
                return reqs, "ok", None, None, None
            reqs.append(msg)
    except Incomplete as e:
        partial = e.args[0] if e.args else None
        return reqs, "incomplete", None, None, partial
    except Bad as e:
        return reqs, "error", e.code, e.why, None


def parse_response(data, head_request=False):
    """One response from data (the whole upstream stream; the peer then
    closes): (msg, None, None), or (None, why, where) with where "head"
    (nothing can reach the client but an error status) or "body" (the
    head was valid and went on; the body is cut).  Interim 1xx responses
    are skipped; empty lines before a status line too, as before a
    request-line (RFC 9112 2.2)."""
    msg, why = _response(data, head_request)
    if msg is not None:
        return msg, None, None
    return None, why[5:], why[:4]


def _response(data, head_request):
    i = 0
    inbody = "head:"
    try:
        while True:
            msg = Msg()
            while data[i:i + 2] == b"\r\n" or data[i:i + 1] == b"\n":
                i += 2 if data[i:i + 1] == b"\r" else 1
            if not HEAD_END.search(data, i):
                raise Incomplete()
            line, i = _line(data, i)
            m = re.match(rb"^(HTTP/[0-9]\.[0-9]) ([0-9]{3})( [^\x00-\x08"
                         rb"\x0a-\x1f\x7f]*)?$", line)
            if not m or not VERSION.match(m.group(1)) or \
                    m.group(1)[5:6] != b"1":
                return None, "head:status-line %r" % line[:60]
            msg.status = int(m.group(2))
            msg.headers, i = _fields(data, i, 502)
            if msg.status // 100 == 1 and msg.status != 101:
                continue
            break
        if msg.status == 101 or msg.status < 200:
            return None, "head:status %d" % msg.status
        tes = []
        for v in msg.get_all(b"transfer-encoding"):
            tes += [t.strip(b" \t").lower() for t in v.split(b",")
                    if t.strip(b" \t")]
        length = _length(msg, 502)
        if head_request or msg.status in (204, 304):
            return msg, None
        if tes:
            if tes.count(b"chunked") > 1 or (b"chunked" in tes and
                                             tes[-1] != b"chunked"):
                return None, "head:chunked not once, last"
            if tes[-1] == b"chunked":
                if length is not None:
                    return None, "head:both content-length and chunked"
                inbody = "body:"
                msg.chunked = True
                msg.body, i = _chunked(data, i, 502)
                return msg, None
            msg.body = data[i:]        # until close
            return msg, None
        if length is not None:
            if len(data) < i + length:
                return None, "body:truncated"
            msg.body = data[i:i + length]
            msg.length = length
            return msg, None
        msg.body = data[i:]
        return msg, None
    except Incomplete:
        return None, inbody + "truncated"
    except Bad as e:
        return None, inbody + e.why
