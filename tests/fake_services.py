"""A fake Nominatim on 127.0.0.1 whose answers are scripted request by request.

It speaks Nominatim's ``/search?format=json`` well enough for geopy, and misbehaves on cue:
slow answers, HTTP errors with headers, bodies that are not what a geocoder expects, connections
dropped without an answer, vanishing for good after some answers, or holding one request open
until a test has killed the client.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Places the fake knows: casefolded query -> (lat, lon, display name).
PLACES: dict[str, tuple[str, str, str]] = {
    "san salvador": ("13.6989", "-89.1914", "San Salvador, El Salvador"),
    "bogotá": ("4.6534", "-74.0837", "Bogotá, Colombia"),
    "mexico city": ("19.4326", "-99.1332", "Ciudad de México, México"),
    "tecoluca": ("13.5386", "-88.7872", "Tecoluca, San Vicente, El Salvador"),
    "medellín": ("6.2442", "-75.5812", "Medellín, Antioquia, Colombia"),
    "guadalajara": ("20.6767", "-103.3475", "Guadalajara, Jalisco, México"),
    "cali": ("3.4516", "-76.5320", "Cali, Valle del Cauca, Colombia"),
    "monterrey": ("25.6866", "-100.3161", "Monterrey, Nuevo León, México"),
}


@dataclass(frozen=True)
class Act:
    """How the fake answers one request.

    ``kind`` is one of: ``ok`` (the place or ``[]``), ``status`` (``status`` with ``headers``
    and ``body``), ``body`` (HTTP 200 with ``body`` as it is), ``truncated`` (announces more
    bytes than it sends, then closes), ``hang`` (waits ``seconds``, then answers ``ok``),
    ``drop`` (closes the connection without a word).
    """

    kind: str = "ok"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    seconds: float = 0.0


OK = Act()


def status(code: int, body: bytes = b"", **headers: str) -> Act:
    return Act("status", status=code, body=body,
               headers=tuple((k.replace("_", "-"), v) for k, v in headers.items()))


def body(data: bytes | str) -> Act:
    return Act("body", body=data.encode() if isinstance(data, str) else data)


def truncated(data: bytes | str) -> Act:
    return Act("truncated", body=data.encode() if isinstance(data, str) else data)


def hang(seconds: float) -> Act:
    return Act("hang", seconds=seconds)


DROP = Act("drop")


@dataclass
class FakeNominatim:
    """Serve scripted answers; ``script`` is consumed one act per request, then ``OK``.

    ``vanish_after``: after that many answers the server closes its socket for good.
    ``hold_after``: the request after that many answers is held open (``held`` is set) until
    ``release`` is set or the client goes away.
    """

    script: list[Act] = field(default_factory=list)
    places: dict[str, tuple[str, str, str]] = field(default_factory=lambda: dict(PLACES))
    vanish_after: int | None = None
    hold_after: int | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    answered: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._gone = False
        self._server: ThreadingHTTPServer | None = None
        self._port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> FakeNominatim:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                fake._handle(self)

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.release.set()
        self._vanish()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def queries(self) -> list[str]:
        return [r.get("q", "") for r in self.requests]

    def _vanish(self) -> None:
        with self._lock:
            self._gone = True
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()  # from now on, connections are refused

    # --- answering ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            if self._gone:
                handler.close_connection = True
                return  # a late request: as if nobody were there
            index = len(self.requests)
            self.requests.append({"path": url.path, **query})
            act = self.script[index] if index < len(self.script) else OK
            hold = self.hold_after is not None and self.answered == self.hold_after
            if not hold:
                self.answered += 1
            # Gone from the moment the last answer is decided: no request slips in after it.
            last = self.vanish_after is not None and self.answered >= self.vanish_after
            self._gone = self._gone or last
        if hold:
            self.held.set()
            self.release.wait(30)
            handler.close_connection = True
            return
        if act.kind == "hang":
            time.sleep(act.seconds)
            act = OK
        with contextlib.suppress(OSError):  # the client gave up first (a timeout)
            self._answer(handler, act, query)
        if last:
            # Not from this thread: shutdown() waits for the serving loop, not for handlers.
            threading.Thread(target=self._vanish, daemon=True).start()

    def _answer(self, handler: BaseHTTPRequestHandler, act: Act, query: dict[str, str]) -> None:
        handler.close_connection = True
        if act.kind == "drop":
            return
        if act.kind == "ok":
            hit = self.places.get(query.get("q", "").casefold())
            data = json.dumps([{"place_id": 1, "lat": hit[0], "lon": hit[1],
                                "display_name": hit[2]}] if hit else []).encode()
            code, headers = 200, (("Content-Type", "application/json"),)
        elif act.kind == "status":
            data, code, headers = act.body, act.status, act.headers
        else:
            data, code, headers = act.body, 200, (("Content-Type", "application/json"),)
        handler.send_response(code)
        for name, value in headers:
            handler.send_header(name, value)
        length = len(data) * 2 + 10 if act.kind == "truncated" else len(data)
        handler.send_header("Content-Length", str(length))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()
