#!/usr/bin/env python3
"""Load driver of the fault soak (bench/soak.sh): mixed JSON and streamed calls to the
proxy's /api/llm/call over raw loopback sockets, so a client can vanish at any point.

    soak.py URL TOKEN CONFIG_ID --seconds S --max-requests N --concurrency C

Modes, in a fixed rotation per worker: a JSON call, a streamed call read to the end, a
streamed call dropped (TCP reset) after its first event, and a call dropped 0.3 s after its
request was sent, before any answer (the wait makes sure the proxy has read the request:
a reset racing the request itself would make "was it a request?" a coin toss). Prints one
JSON line: requests delivered (each one the proxy must record), how each ended, and HTTP
statuses. Standard library only.
"""

import argparse
import json
import socket
import struct
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

MODES = ["json", "stream", "json", "stream-drop", "stream", "send-drop"]
PROMPT = "你好，请用一句话介绍一下你自己。"


def request_bytes(host, path, token, config_id, stream):
    body = json.dumps(
        {"config_id": config_id, "messages": [{"role": "user", "content": PROMPT}], "stream": stream},
        ensure_ascii=False,
    ).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def reset(sock):
    """Closes with RST (SO_LINGER 0): the rudest way a client can leave."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def one_call(addr, payload, mode, timeout):
    """Returns (delivered, ending, status): whether the whole request was written, and how
    the call ended from the client's side."""
    try:
        sock = socket.create_connection(addr, timeout=timeout)
    except OSError as err:
        return False, f"connect-error:{type(err).__name__}", None
    try:
        try:
            sock.sendall(payload)
        except OSError as err:
            return False, f"send-error:{type(err).__name__}", None
        if mode == "send-drop":
            time.sleep(0.3)
            reset(sock)
            return True, "dropped-after-send", None
        data = b""
        status = None
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if status is None and b"\r\n" in data:
                try:
                    status = int(data.split(b" ", 2)[1])
                except (IndexError, ValueError):
                    status = -1
            if mode == "stream-drop" and b"\r\n\r\n" in data and b"data:" in data.split(b"\r\n\r\n", 1)[1]:
                reset(sock)
                return True, "dropped-mid-stream", status
        return True, ("complete" if status else "empty"), status
    except socket.timeout:
        return True, "client-timeout", None
    except OSError as err:
        return True, f"error:{type(err).__name__}", None
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("config_id", type=int)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--max-requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    parts = urlsplit(args.url)
    addr = (parts.hostname, parts.port)
    payloads = {
        stream: request_bytes(parts.netloc, parts.path, args.token, args.config_id, stream)
        for stream in (False, True)
    }
    deadline = time.monotonic() + args.seconds
    lock = threading.Lock()
    sent = 0
    delivered = 0
    endings = Counter()
    statuses = Counter()
    modes = Counter()

    def worker(index):
        nonlocal sent, delivered
        turn = index
        while time.monotonic() < deadline:
            with lock:
                if sent >= args.max_requests:
                    return
                sent += 1
            mode = MODES[turn % len(MODES)]
            turn += 1
            ok, ending, status = one_call(addr, payloads[mode != "json"], mode, args.timeout)
            with lock:
                delivered += ok
                modes[mode] += 1
                endings[ending] += 1
                statuses[str(status)] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        json.dumps(
            {
                "requests": delivered,
                "attempts": sent,
                "seconds": round(time.monotonic() - started, 1),
                "modes": dict(modes),
                "endings": dict(endings),
                "statuses": dict(statuses),
            }
        )
    )


if __name__ == "__main__":
    main()
