"""Playwright driving Debian's chromium (found on the PATH; never downloaded)."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The devices of the README: reception, desk and kiosk tablets; the visitor's phone; the TV.
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
TV = {"width": 1280, "height": 720}
TV_FULL_HD = {"width": 1920, "height": 1080}
# Every fixture account's password (tests.conftest gives it to the accounts it makes).
PASSWORD = "correct horse battery staple"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but no chromium is on the PATH.")
        pytest.skip("Debian's chromium is not installed (CI installs it and sets REQUIRE_BROWSER).")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
    # themselves are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (one per person), closed at the end of the test."""
    contexts = []

    def _new_page(viewport=TABLET, locale="en-GB"):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=live_server.url)
        context.set_default_timeout(5000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        page.js_errors = errors
        page.base_url = live_server.url
        return page

    yield _new_page
    for context in contexts:
        context.close()


def log_in(page, email: str, password: str | None = None) -> None:
    """Log in through the real login form, as a person does."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def sign_in(page, user) -> None:
    """Open the page's browser context already logged in as `user`, as the login form leaves it
    (a session of the real backend, in its cookie) without the form's page loads: for tests
    whose subject is a screen, not the login (tried through its form by log_in's users)."""
    client = Client()
    client.force_login(user, backend="citedesmetiers.auth_backends.ModelBackend")
    name = settings.SESSION_COOKIE_NAME
    page.context.add_cookies(
        [{"name": name, "value": client.cookies[name].value, "url": page.base_url}]
    )


def inside_viewport(locator) -> bool:
    """Whether the element is wholly visible on the first screen, without scrolling."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
                   return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
                       && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }"""
    )


def overflows(page) -> bool:
    """Whether the page is taller or wider than its window (a TV nobody can scroll)."""
    return page.evaluate(
        """() => { const d = document.documentElement;
                   return d.scrollHeight > window.innerHeight
                       || d.scrollWidth > window.innerWidth; }"""
    )
