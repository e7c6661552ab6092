"""Short codes people read out or type: a registration's or an appointment's code. Random (not
derived from an id), in capitals without the letters and digits that look alike, eight of them
(32⁸ = 2⁴⁰ codes); typed with spaces, dashes or small letters, they still match."""

from __future__ import annotations

import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
GROUP = 4
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—.·_]+")


def new_code(alphabet: str = CODE_ALPHABET, length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def normal_form(typed: str) -> str:
    """The code as stored: without separators or spaces, in capitals. Only ASCII letters and
    digits are kept as they are: anything else makes a code that matches nothing."""
    return _SEPARATORS.sub("", typed or "").upper()


def grouped(code: str) -> str:
    """`K7PM4QXD` as printed: `K7PM-4QXD`."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))
