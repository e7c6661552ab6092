"""Reading a gettext catalogue (.po) entry by entry, for the tests of the translations."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str = ""
    msgstr: list[str] = field(default_factory=list)  # one per plural form
    flags: set[str] = field(default_factory=set)


def entries(path: Path) -> list[Entry]:
    """The live entries of a .po file: not the header, not the obsolete (`#~`) ones."""
    found: list[Entry] = []
    flags: set[str] = set()
    current = None  # the field whose continuation lines follow
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#~"):
            current = None
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        match = FIELD.match(line)
        if match:
            current, text = match[1], ast.literal_eval(match[2])
            starts = current == "msgctxt" or (
                current == "msgid" and not (found and not found[-1].msgid and found[-1].msgctxt)
            )
            if starts:
                found.append(Entry(line=number, flags=flags))
                flags = set()
            entry = found[-1]
            if current.startswith("msgstr"):
                entry.msgstr.append(text)
            else:
                setattr(entry, current, text)
        elif line.startswith('"') and current:
            text, entry = ast.literal_eval(line), found[-1]
            if current.startswith("msgstr"):
                entry.msgstr[-1] += text
            else:
                setattr(entry, current, getattr(entry, current) + text)
        elif not line.strip():
            current = None
    return [entry for entry in found if entry.msgid]
