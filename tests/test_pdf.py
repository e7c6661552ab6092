"""The one PDF renderer: a document gets its `data:` images and our own static files, and
nothing else it names — no file of the server, no other machine — and every PDF of the project
(the proof, the take-away list, the monthly report) is made by it."""

from __future__ import annotations

import ast
import base64
import http.server
import io
import struct
import zlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from citedesmetiers import pdf
from tests.threads import in_background

ROOT = Path(__file__).resolve().parent.parent


def png() -> bytes:
    """A real 2×2 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def images(document: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(document)).pages)


def page_with(*tags: str) -> str:
    return "<!DOCTYPE html><html><head>" + "".join(tags) + "</head><body><p>Hello</p></body></html>"


@pytest.fixture
def static_dir(settings, tmp_path) -> Path:
    """A static folder of ours holding `pixel.png`, and a secret file beside it (not static)."""
    folder = tmp_path / "static"
    folder.mkdir()
    (folder / "pixel.png").write_bytes(png())
    (tmp_path / "secret.png").write_bytes(png())
    settings.STATICFILES_DIRS = [folder]
    return folder


def test_it_draws_a_data_uri_image():
    uri = "data:image/png;base64," + base64.b64encode(png()).decode()

    assert images(pdf.render(page_with(f'<img src="{uri}" alt="">'), what="test")) == 1


def test_it_draws_our_static_files(static_dir):
    document = pdf.render(page_with('<img src="/static/pixel.png" alt="">'), what="test")

    assert images(document) == 1


@pytest.mark.parametrize(
    "address",
    [
        "file://{tmp}/secret.png",
        "file://{tmp}/static/pixel.png",  # even a static file, by its path
        "/static/../secret.png",
        "/static/%2e%2e/secret.png",
        "https://pdf.invalid/static/..%2fsecret.png",
        "{tmp}/secret.png",
    ],
)
def test_it_never_reads_another_file_of_the_server(static_dir, address):
    src = address.format(tmp=static_dir.parent)

    document = pdf.render(page_with(f'<img src="{src}" alt="">'), what="test")

    assert images(document) == 0


def test_it_never_calls_another_machine():
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            body = png() if self.path.endswith(".png") else b"p { color: red }"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serving = in_background(server.serve_forever)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        document = pdf.render(
            page_with(
                f'<link rel="stylesheet" href="{origin}/style.css">',
                f"<style>@import url({origin}/more.css);</style>",
                f'<img src="{origin}/pixel.png" alt="">',
            ),
            what="test",
        )
    finally:
        server.shutdown()
        server.server_close()
        serving.join()

    assert asked == []
    assert images(document) == 0


def test_every_pdf_of_the_project_is_made_by_it():
    importers = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "var", "tests", "static"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "weasyprint" for name in names):
                importers.append(str(path.relative_to(ROOT)))

    assert sorted(set(importers)) == ["citedesmetiers/pdf.py"]


def test_every_pdf_is_tagged_for_screen_readers_in_its_language():
    document = pdf.render(
        '<!DOCTYPE html><html lang="it"><head><title>Attestato</title></head><body>'
        "<h1>Attestato di presenza</h1><p>Città dei Mestieri</p>"
        "<table><tr><th>Giorno</th></tr><tr><td>3</td></tr></table></body></html>",
        what="test",
    )

    catalog = PdfReader(io.BytesIO(document)).trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712  (a PDF boolean)
    assert catalog["/Lang"] == "it"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    kinds = set()

    def walk(node):
        node = node.get_object()
        if "/S" in node:
            kinds.add(str(node["/S"]))
        children = node.get("/K", [])
        for child in children if isinstance(children, list) else [children]:
            if hasattr(child, "get_object") and isinstance(child.get_object(), dict):
                walk(child)

    walk(catalog["/StructTreeRoot"])
    assert {"/H1", "/P", "/Table", "/TH", "/TD"} <= kinds
