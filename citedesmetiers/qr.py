"""QR codes as SVG (no image files, no inline script or style)."""

import segno


def qr_svg(data: str, scale: int = 4, *, fit: bool = False) -> str:
    """An inline <svg> element for HTML pages. `fit`: without a size of its own (a viewBox
    instead), so that CSS sizes it, as the waiting-room screen does for each screen size."""
    if fit:
        return segno.make(data, error="m").svg_inline(
            scale=1, dark="#000", light="#fff", omitsize=True
        )
    return segno.make(data, error="m").svg_inline(scale=scale, dark="#000", light="#fff")


def qr_data_uri(data: str, scale: int = 4) -> str:
    """A data: URI, for <img> in PDFs."""
    return segno.make(data, error="m").svg_data_uri(scale=scale, dark="#000", light="#fff")
