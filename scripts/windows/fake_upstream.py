#!/usr/bin/env python3
"""A minimal OpenAI Chat Completions upstream on loopback, for scripts/windows-smoke.sh.

Standard library only, so the smoke test needs no host build of the Rust test fake.
Prints one line `URL KEY` (like `cargo run --example fake_upstream`), then serves until killed.

- POST /v1/chat/completions with `Authorization: Bearer KEY` (anything else: 401 in OpenAI's
  error shape, so a wrongly decrypted provider key shows up as a failed call);
- `"stream": true` answers OpenAI's streaming SSE bytes, as server/tests/support/fake_upstream.rs (role chunk,
  content chunks, finish chunk, usage chunk with `choices: []`, `data: [DONE]`), otherwise the
  non-streamed JSON;
- a model name containing "slow" streams one chunk per second (SLOW_CHUNKS chunks), so a
  shutdown can be triggered while a call is in flight;
- a model name containing "endless" streams one chunk per second until the proxy hangs up (at
  most ENDLESS_CHUNKS), for a shutdown that must cut a call off.
Each request is logged on stderr as one line: `REQUEST model=... stream=... auth=ok|bad`.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "sk-smoke-test-0123456789abcdef"
REPLY = ["你好！", "很高兴为您服务。"]
USAGE = {"prompt_tokens": 22, "completion_tokens": 9, "total_tokens": 31}
SLOW_CHUNKS = 4
ENDLESS_CHUNKS = 600


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes: simple for SSE

    def log_message(self, fmt, *args):  # keep stderr for our own one-line records
        pass

    def _json(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._json(404, {"error": {"message": "not found", "type": "invalid_request_error",
                                   "param": None, "code": None}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        auth_ok = self.headers.get("Authorization") == "Bearer " + KEY
        model = str(req.get("model", ""))
        stream = bool(req.get("stream"))
        print(f"REQUEST path={self.path} model={model} stream={stream} "
              f"auth={'ok' if auth_ok else 'bad'}", file=sys.stderr, flush=True)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self.do_GET()
        if not auth_ok:
            return self._json(401, {"error": {"message": "Incorrect API key provided.",
                                              "type": "invalid_request_error", "param": None,
                                              "code": "invalid_api_key"}})
        ident = "chatcmpl-smoke"
        created = int(time.time())
        if not stream:
            return self._json(200, {
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(REPLY)},
                             "finish_reason": "stop"}],
                "usage": USAGE,
            })
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def chunk(choices, usage=None):
            obj = {"id": ident, "object": "chat.completion.chunk", "created": created,
                   "model": model, "choices": choices, "usage": usage}
            self.wfile.write(b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n")
            self.wfile.flush()

        slow = "slow" in model or "endless" in model
        count = ENDLESS_CHUNKS if "endless" in model else SLOW_CHUNKS
        parts = REPLY if not slow else [f"第{i + 1}段。" for i in range(count)]
        try:
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            for part in parts:
                if slow:
                    time.sleep(1.0)
                chunk([{"index": 0, "delta": {"content": part}, "finish_reason": None}])
            chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
            chunk([], USAGE)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            print(f"HUNG UP model={model}", file=sys.stderr, flush=True)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    print(f"http://127.0.0.1:{port}/v1/chat/completions {KEY}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
