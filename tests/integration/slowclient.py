#!/usr/bin/env python3
"""Misbehaving HTTP clients for tests/integration/test_overload.sh, each bounded in time and
aimed at 127.0.0.1 only.

  hold PORT N SECONDS READY   N sockets that send part of a request head and trickle one header
                              line a second; a socket the server closes is opened again (an
                              attacker keeps the pressure). READY is written once all N were
                              opened. Prints "opened=.. reopened=..".
  trickle PORT SECONDS        one socket trickling a header line a second; prints
                              "closed=<seconds> answer=<bytes>" or "open" if still open at the end.
  slowbody PORT TOKEN RATE SECONDS  a JSON POST /api/v1/tokens (an admin TOKEN) announcing
                              100000 bytes, sent at RATE bytes/s;
                              prints "closed=<seconds> answer=<bytes>" or "open".
  bighead PORT QUERYBYTES     one GET with a query string of that size; prints
                              "status=<code> seconds=<t>" (status 0: no answer).
"""
import resource
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 64))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def open_partial(port, i):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((HOST, port))
    except BlockingIOError:
        pass
    return s


def closed_by_peer(s):
    """True when the server closed (or reset) the socket."""
    try:
        p = select.poll()  # select() cannot watch descriptors past 1023
        p.register(s, select.POLLIN)
        if not p.poll(0):
            return False
        return s.recv(4096) == b""
    except OSError:
        return True


def hold(port, n, seconds, ready):
    raise_fd_limit(n)
    socks = [open_partial(port, i) for i in range(n)]
    sent = [False] * n
    reopened = 0
    with open(ready, "w") as f:
        f.write("%d\n" % n)
    end = time.time() + seconds
    tick = 0
    while time.time() < end:
        for i, s in enumerate(socks):
            try:
                if not sent[i]:
                    s.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
                    sent[i] = True
                elif closed_by_peer(s):
                    raise OSError("closed")
                else:
                    s.send(b"X-Slow-%d: %d\r\n" % (tick, i))
            except OSError:
                s.close()
                socks[i] = open_partial(port, i)
                sent[i] = False
                reopened += 1
        tick += 1
        time.sleep(1)
    for s in socks:
        s.close()
    print("opened=%d reopened=%d" % (n, reopened))


def wait_closed(s, start, seconds, step):
    """Calls step() each second until the peer closes s or seconds pass."""
    answer = 0
    end = start + seconds
    while time.time() < end:
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                print("closed=%.1f answer=%d" % (time.time() - start, answer))
                return
            answer += len(data)
            continue
        try:
            step()
        except OSError:
            print("closed=%.1f answer=%d" % (time.time() - start, answer))
            return
    print("open")


def trickle(port, seconds):
    s = socket.create_connection((HOST, port))
    start = time.time()
    s.send(b"GET /api/v1/health HTTP/1.1\r\n")
    count = [0]

    def step():
        count[0] += 1
        s.send(b"X-Trickle-%d: yes\r\n" % count[0])

    wait_closed(s, start, seconds, step)


def slowbody(port, token, rate, seconds):
    s = socket.create_connection((HOST, port))
    s.send(("POST /api/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"x\": \""
            % token).encode())
    start = time.time()
    wait_closed(s, start, seconds, lambda: s.send(b"a" * rate))


def bighead(port, nbytes):
    s = socket.create_connection((HOST, port))
    start = time.time()
    s.settimeout(70)
    try:
        s.sendall(b"GET /api/v1/health?x=" + b"a" * nbytes + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(64)
    except OSError:
        data = b""
    status = data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "0"
    print("status=%s seconds=%.2f" % (status, time.time() - start))


def main(argv):
    mode, port = argv[1], int(argv[2])
    if mode == "hold":
        hold(port, int(argv[3]), float(argv[4]), argv[5])
    elif mode == "trickle":
        trickle(port, float(argv[3]))
    elif mode == "slowbody":
        slowbody(port, argv[3], int(argv[4]), float(argv[5]))
    elif mode == "bighead":
        bighead(port, int(argv[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv)
