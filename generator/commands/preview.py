"""The HTTP side of `serve`: public/ on localhost, with the pages' security headers, and a bad request answered
with 400, never a traceback in the terminal."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from urllib.parse import unquote, urlsplit

# The pages carry the same policy as a <meta> tag (templates/base.html) for file://; a server sends it as a header.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # a preview: every reload shows the latest build
}


class PreviewHandler(http.server.SimpleHTTPRequestHandler):
    """Files of one folder, read only; a path that is not one (a NUL byte, a bad escape) is a 400."""

    def log_message(self, format: str, *args) -> None:  # the terminal is for the build's messages
        pass

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def _bad(self) -> bool:
        path = urlsplit(self.path).path
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:
            return True
        return "\0" in decoded or "\\" in decoded or not path.startswith("/")

    def send_head(self):
        if self._bad():
            self.send_error(400, "Bad Request")
            return None
        try:
            return super().send_head()
        except (ValueError, OSError):  # what the file system makes of a name no file can have
            self.send_error(400, "Bad Request")
            return None


class PreviewServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path, port: int) -> None:
        super().__init__(("127.0.0.1", port), functools.partial(PreviewHandler, directory=str(folder)))

    def handle_error(self, request, client_address) -> None:
        """A request that broke off (the browser closed the tab, a probe sent rubbish): nothing to print."""
