#!/usr/bin/env python3
"""HTTP/1.1 behaviour of the HTTP front prototypes (h2o_front, mhd_front)
on the points the gateway needs: chunked request bodies, Expect:
100-continue, the 413/414/431 limits, header-read, body-read and idle
timeouts, a connection cap, and draining in-flight requests on SIGTERM.

    tests/bench/http-front/probe.py [BIN_DIR]    (default build/http-front)

Starts its own echo and servers (loopback ports 23411-23418, ipc in a
temporary directory) with a 2 s timeout and a 1 MiB body limit, prints one
line per probe and server with what was seen on the wire."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "http-front"))
TIMEOUT_MS = 2000
work = tempfile.mkdtemp(prefix="roster-http-probe.")
echo_url = f"ipc://{work}/echo.ipc"
procs = []


def start(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.Popen(args, env=e, stderr=open(os.path.join(work, "log"), "a"))
    procs.append(p)
    return p


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no listener on {port}")


def conn(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.settimeout(timeout)
    return s


def read_response(s, limit=5.0):
    """The status line and the whole response (by Content-Length or close),
    or a description of what happened instead."""
    s.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                if head.startswith(b"HTTP/1.1 100"):
                    data = body
                    continue
                cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if cl and len(body) >= int(cl[0].split(b":")[1]):
                    break
    except socket.timeout:
        if not data:
            return "no answer", data
    except ConnectionResetError:
        if not data:
            return "reset", data
    if not data:
        return "closed without a response", data
    return data.split(b"\r\n", 1)[0].decode(errors="replace"), data


def post(port, body, extra=b""):
    s = conn(port)
    try:
        s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra
                  + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass  # a server may answer early and close: read what it sent
    st, data = read_response(s)
    s.close()
    return st, data


def probe_chunked(port):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n3\r\n12}\r\n0\r\n\r\n")
    st, data = read_response(s)
    s.close()
    echoed = "echoed" if data.endswith(b'{"a":12}') else "NOT echoed"
    return f"{st}; body {echoed}"


def probe_te_and_cl(port):
    """Transfer-Encoding and Content-Length together (request smuggling)."""
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    st, _ = read_response(s, 2.0)
    # RFC 9112 6.1: the server must close the connection after answering.
    s.settimeout(1.0)
    try:
        after = "connection closed" if s.recv(1) == b"" else "more data"
    except socket.timeout:
        after = "connection kept open"
    except ConnectionResetError:
        after = "connection reset"
    s.close()
    return f"{st}; {after}"


def probe_expect(port, length):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % length)
    s.settimeout(1.5)
    try:
        first = s.recv(65536)
    except socket.timeout:
        first = b""
    if first.startswith(b"HTTP/1.1 100"):
        s.sendall(b"x" * min(length, 1 << 16))
        st, _ = read_response(s)
        s.close()
        return f"100 Continue, then {st}"
    s.close()
    if not first:
        return "no 100 Continue within 1.5 s (client must send the body anyway)"
    return first.split(b"\r\n", 1)[0].decode() + " (no 100 Continue)"


def probe_big_body_chunked(port, size):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    sent = 0
    try:
        while sent < size:
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += len(chunk)
        s.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    st, _ = read_response(s)
    s.close()
    return f"{st} (after {sent >> 10} KiB sent)"


def probe_headers(port, n, size):
    hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * size) for i in range(n))
    s = conn(port)
    try:
        s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\n" + hdrs + b"Content-Length: 2\r\n\r\n{}")
    except OSError:
        pass
    st, _ = read_response(s)
    s.close()
    return st


def probe_uri(port, length):
    s = conn(port)
    try:
        s.sendall(b"POST /graphql?" + b"a" * length + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    except OSError:
        pass
    st, _ = read_response(s)
    s.close()
    return st


def time_until_closed(s, limit=15.0):
    """Seconds until the server closes s, and what it sent first."""
    t0 = time.monotonic()
    s.settimeout(limit)
    got = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    except socket.timeout:
        return f"still open after {limit:.0f} s"
    except ConnectionResetError:
        pass
    what = got.split(b"\r\n", 1)[0].decode(errors="replace") if got else "nothing sent"
    return f"closed after {time.monotonic() - t0:.1f} s ({what})"


def probe_slow_headers(port):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")
    return time_until_closed(s)


def probe_slow_body(port):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
    return time_until_closed(s)


def probe_idle(port):
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    read_response(s)
    return time_until_closed(s)


def probe_cap(port, cap, n):
    """n connections, each sending one request, against a cap of `cap`."""
    socks, results = [], []
    for _ in range(n):
        try:
            socks.append(conn(port, 2.0))
        except OSError as e:
            results.append(f"connect: {e.strerror}")
    time.sleep(0.3)
    for s in socks:
        try:
            s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        except OSError:
            pass
    for s in socks:  # every connection stays open until all are read
        results.append(read_response(s, 2.0)[0])
    for s in socks:
        s.close()
    counts = {}
    for r in results:
        counts[r] = counts.get(r, 0) + 1
    return ", ".join(f"{v}× {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def probe_drain(name, binary, port):
    """An RPC in flight when SIGTERM arrives (the echo is stopped meanwhile)."""
    echo = start([os.path.join(BIN, "ceiling"), "echo", f"ipc://{work}/drain-{name}.ipc"])
    time.sleep(0.3)
    srv = start([binary, str(port), f"ipc://{work}/drain-{name}.ipc"])
    wait_port(port)
    idle = conn(port)  # an idle keep-alive connection
    idle.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    read_response(idle)
    os.kill(echo.pid, signal.SIGSTOP)
    s = conn(port)
    s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"a\":42}")
    time.sleep(0.3)
    t0 = time.monotonic()
    srv.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    try:
        late = conn(port, 1.0)
        late.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        late_st = read_response(late, 1.0)[0]
    except OSError as e:
        late_st = f"connect: {e.strerror}"
    os.kill(echo.pid, signal.SIGCONT)
    st, data = read_response(s)
    idle_st = time_until_closed(idle, 12.0)
    try:
        rc = srv.wait(12)
        exit_s = f"exit {rc} after {time.monotonic() - t0:.1f} s"
    except subprocess.TimeoutExpired:
        exit_s = "still running after 12 s"
        srv.kill()
    echo.terminate()
    ok = "with its reply" if data.endswith(b'{"a":42}') else "WITHOUT its reply"
    return f"in flight: {st} {ok}; new connection: {late_st}; idle keep-alive: {idle_st}; {exit_s}"


def main():
    servers = [("h2o", os.path.join(BIN, "h2o_front")), ("mhd", os.path.join(BIN, "mhd_front"))]
    env = {"FRONT_TIMEOUT_MS": str(TIMEOUT_MS), "FRONT_MAX_BODY": str(1 << 20)}
    start([os.path.join(BIN, "ceiling"), "echo", echo_url])
    time.sleep(0.3)
    ports = {}
    for i, (name, b) in enumerate(servers):
        ports[name] = 23411 + i
        start([b, str(ports[name]), echo_url], env)
        # the cap: h2o's is per loop (2 loops), MHD's for the daemon
        ports[name + "-cap"] = 23413 + i
        start([b, str(ports[name + "-cap"]), echo_url],
              dict(env, FRONT_MAX_CONNS="2" if name == "h2o" else "4"))
    for p in ports.values():
        wait_port(p)
    probes = [
        ("POST, Content-Length", lambda p: post(p, b'{"a":1}')[0]),
        ("chunked request body", probe_chunked),
        ("Transfer-Encoding and Content-Length together", probe_te_and_cl),
        ("Expect: 100-continue, 10 B body", lambda p: probe_expect(p, 10)),
        ("Expect: 100-continue, Content-Length 2 MiB", lambda p: probe_expect(p, 2 << 20)),
        ("body 2 MiB, Content-Length", lambda p: post(p, b"x" * (2 << 20))[0]),
        ("body 2 MiB, chunked", lambda p: probe_big_body_chunked(p, 2 << 20)),
        ("one 16 KiB header", lambda p: probe_headers(p, 1, 16 << 10)),
        ("200 headers of 100 B (20 KiB)", lambda p: probe_headers(p, 200, 100)),
        ("one 64 KiB header", lambda p: probe_headers(p, 1, 64 << 10)),
        ("URI of 8 KiB", lambda p: probe_uri(p, 8 << 10)),
        ("URI of 64 KiB", lambda p: probe_uri(p, 64 << 10)),
        ("headers sent half, then silence (timeout 2 s)", probe_slow_headers),
        ("body sent half, then silence (timeout 2 s)", probe_slow_body),
        ("idle keep-alive after a response (timeout 2 s)", probe_idle),
    ]
    for label, fn in probes:
        for name, _ in servers:
            try:
                out = fn(ports[name])
            except Exception as e:  # a probe's failure is a result too
                out = f"probe error: {e!r}"
            print(f"{label} | {name} | {out}", flush=True)
    for name, _ in servers:
        print(f"connection cap 4, 10 connections | {name} | {probe_cap(ports[name + '-cap'], 4, 10)}", flush=True)
    for i, (name, b) in enumerate(servers):
        print(f"SIGTERM with one RPC in flight | {name} | {probe_drain(name, b, 23417 + i)}", flush=True)


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
            except OSError:
                pass
            p.terminate()
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
    subprocess.run(["rm", "-rf", work])
