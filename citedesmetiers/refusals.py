"""What a service refuses, and how a view tells it: every app's error is a `Refusal`, whose text is
written for the person at the screen; `attempt` turns one into a message on the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest


class Refusal(Exception):
    """A write refused, with a message to show to the person as it is; nothing was changed."""


def attempt(request: HttpRequest, action: Callable[..., Any], /, *args, **kwargs) -> bool:
    """Run `action(*args, **kwargs)`; a refusal becomes an error message for the next page.
    True when it went through."""
    try:
        action(*args, **kwargs)
    except Refusal as refusal:
        messages.error(request, str(refusal))
        return False
    return True
