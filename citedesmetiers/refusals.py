"""What a service refuses, and how a view tells it: every app's error is a `Refusal`, whose text is
written for the person at the screen; `attempt` turns one into a message on the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest


class Refusal(Exception):
    """A write refused, with a message to show to the person as it is; nothing was changed.
    `field` names the form field the message is about, when there is one, so that a form can
    show it under that field (and tie it there for screen readers) instead of above the form."""

    def __init__(self, message: Any = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def attempt(request: HttpRequest, action: Callable[..., Any], /, *args, **kwargs) -> bool:
    """Run `action(*args, **kwargs)`; a refusal becomes an error message for the next page.
    True when it went through."""
    try:
        action(*args, **kwargs)
    except Refusal as refusal:
        messages.error(request, str(refusal))
        return False
    return True
