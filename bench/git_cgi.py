#!/usr/bin/env python3
"""bench/git_cgi.py PORT ROOT - serve `git http-backend` over HTTP as CGI, the
reference for otcm's git benchmarks (bench/git_bench.sh).

A small CGI runner: each request runs one `git http-backend` process with
GIT_PROJECT_ROOT=ROOT, the request body streamed to its stdin and its
output streamed back, the way a web server runs it.  No authentication.
"""

import http.server
import os
import shutil
import socketserver
import subprocess
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def run(self):
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": ROOT,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path[len("/git"):] if path.startswith("/git/") else path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
        }
        for h in ("Git-Protocol", "Content-Encoding"):
            if self.headers.get(h):
                env["HTTP_" + h.upper().replace("-", "_")] = self.headers[h]
        length = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if length:
            env["CONTENT_LENGTH"] = length
        p = subprocess.Popen(["git", "http-backend"], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        if chunked:
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                p.stdin.write(self.rfile.read(size))
                self.rfile.readline()
        elif length:
            left = int(length)
            while left:
                block = self.rfile.read(min(left, 1 << 16))
                if not block:
                    break
                p.stdin.write(block)
                left -= len(block)
        p.stdin.close()
        status, headers = 200, []
        while True:
            line = p.stdout.readline().rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            else:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        shutil.copyfileobj(p.stdout, self.wfile, 1 << 16)
        p.wait()

    do_GET = run
    do_POST = run


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    ROOT = os.path.abspath(sys.argv[2])
    srv = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("serving on 127.0.0.1:%s" % sys.argv[1], flush=True)
    srv.serve_forever()
