"""A worker's own `/metrics` port: this process's counters and histograms (the database gauges
come from `serve`), behind the same bearer token as `serve`'s `/metrics` when one is set.

prometheus-client's `start_http_server` has no authentication, so its WSGI app is served here
behind the token check instead, on a small threaded server that logs no requests.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from ringfence.entrypoints.bearer import bearer_matches

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every 15 s would flood the log; the access log says nothing useful here."""


def _guarded(app: WSGIApplication, token: str | None) -> WSGIApplication:
    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not bearer_matches(str(environ.get("HTTP_AUTHORIZATION", "")), token):
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/plain"), ("WWW-Authenticate", "Bearer")],
            )
            return [b"metrics need the metrics token\n"]
        return app(environ, start_response)

    return guarded


def serve_worker_metrics(
    host: str, port: int, token: str | None
) -> tuple[WSGIServer, threading.Thread]:
    """Serve this process's metrics on `host:port` in a daemon thread (port 0: any free port;
    the server's `server_port` says which)."""
    # IPv4 or IPv6, whichever `host` names (as prometheus-client's own server chooses).
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_class: type[_ThreadingServer] = type(
        "_MetricsServer", (_ThreadingServer,), {"address_family": family}
    )
    server: WSGIServer = make_server(
        host, port, _guarded(make_wsgi_app(), token), server_class, _QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return server, thread
