"""Take the README's screenshots from a running demo (`make run`), as the people using each screen
see it, on its device and in French and in English: `docs/screenshots/<lang>/<screen>.png`.

    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

Run it from the repository, on the machine of the demo: it reads the demo's database (the same
settings as `make run`) for the tickets to open on a phone. Uses Debian's chromium through
Playwright. It checks visitors in on the tablet, calls one at a desk and starts the interview, so
the screens have something to show. Buttons and links are found by their role and their name in
the page's language (read from the catalogue), so markup can change under it; a shot that still
cannot be taken is skipped with a warning, and the others are taken."""

from __future__ import annotations

import os
import re
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The devices of the README.
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
TV = {"width": 1280, "height": 720}
PC = {"width": 1280, "height": 800}
LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
PASSWORD = "demo-password"
# One counsellor per language, so the second run finds its desk as the first left it.
COUNSELLORS = {"fr": "counsellor1@demo.test", "en": "counsellor2@demo.test"}
SEARCH = "rédiger un cv"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")
os.environ.setdefault("DEBUG", "true")  # the settings of `make run`
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.utils import translation  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from reception.models import Call, Visit  # noqa: E402


class Skipped(Exception):
    """A shot that cannot be taken on this demo (its screen or its control is not there)."""


class Shots:
    """The shots of one language: each person's browser, and what was taken or skipped."""

    def __init__(self, browser, language: str):
        self.browser, self.language = browser, language
        self.folder = OUT / language
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []
        self.skipped: list[str] = []

    def t(self, text: str) -> str:
        """`text` as the pages of this language say it."""
        with translation.override(self.language):
            return translation.gettext(text)

    def page(self, viewport: dict, email: str | None = None):
        context = self.browser.new_context(
            viewport=viewport, locale=LANGUAGES[self.language], base_url=BASE
        )
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": self.language, "url": BASE}]
        )
        context.set_default_timeout(8000)
        page = context.new_page()
        if email:
            page.goto("/accounts/login/")
            page.fill("input[name=login]", email)
            page.fill("input[name=password]", PASSWORD)
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
            if "/accounts/login/" in page.url:
                raise Skipped(f"{email} could not log in (is the demo seeded?)")
        return page

    def take(self, name: str, page, *, full_page: bool = False) -> None:
        page.wait_for_load_state()
        path = self.folder / f"{name}.png"
        page.screenshot(path=path, full_page=full_page)
        self.taken.append(path)

    def attempt(self, name: str, shoot: Callable[[], None]) -> None:
        """Run one scene; a missing screen or control skips it with a warning, not the others."""
        try:
            shoot()
        except (Skipped, PlaywrightError, AssertionError, LookupError) as problem:
            reason = str(problem).strip().splitlines()[0] if str(problem).strip() else ""
            self.skipped.append(f"{self.language}/{name}: {type(problem).__name__} {reason}")
            print(f"warning: skipped {self.language}/{name}: {reason}", file=sys.stderr)
            if os.environ.get("SCREENSHOTS_DEBUG"):
                traceback.print_exc()


def first(*locators):
    """The first of these locators that is on the page."""
    for locator in locators:
        if locator.count():
            return locator.first
    raise Skipped("none of the expected controls is on the page")


def goto(page, path: str) -> None:
    response = page.goto(path)
    if response is None or response.status >= 400:
        raise Skipped(f"{path} answered {response.status if response else 'nothing'}")


# --- the scenes ----------------------------------------------------------------------------------


def reception(shots: Shots) -> None:
    """Check six visitors in (one per theme), then the tablet as it is after a check-in."""
    page = shots.page(TABLET, "reception@demo.test")
    goto(page, "/reception/")
    themes = page.locator("button[name=theme]")
    count = min(themes.count(), 6)
    if not count:
        raise Skipped("no theme button on the reception tablet")
    late = page.locator("button[name=late][value=on]")
    if late.count():  # the centre is closed now: let late arrivals in for the rest of the day
        late.first.click()
        page.wait_for_load_state()
    for index in range(count):
        page.locator("button[name=theme]").nth(index).click()
        page.wait_for_load_state()
        if "/reception/visits/" in page.url:  # a confirmation page: back to the next visitor
            if index == count - 1:
                shots.take("reception-checked-in", page)
            next_visitor = page.get_by_role("link", name=shots.t("Next visitor"))
            if next_visitor.count():
                next_visitor.first.click()
            else:
                page.goto("/reception/")
            page.wait_for_load_state()
    shots.take("reception-tablet", page)


def desk_and_what_it_moves(shots: Shots) -> None:
    """A counsellor calls the next visitor: the desk, the TV and the visitor's phone then; the
    desk during the interview; a phone still waiting."""
    desk = shots.page(TABLET, COUNSELLORS[shots.language])
    goto(desk, "/desk/")
    openers = desk.locator("form[action*='/desk/open/'] button:enabled")
    if openers.count():
        openers.first.click()
        desk.wait_for_load_state()
    # As a previous run left it: the visitor goes back to the queue, the desk is free.
    for name in ("Resume", "Hand back to the queue", "Back to the queue"):
        back = desk.get_by_role("button", name=shots.t(name), exact=True)
        if back.count():
            back.first.click()
            desk.wait_for_load_state()
    first(desk.get_by_role("button", name=shots.t("Call next"), exact=True)).click()
    desk.wait_for_load_state()
    shots.take("desk-calling", desk)

    called = (
        Call.objects.filter(kind=Call.Kind.CALL, visit__status=Visit.Status.CALLED)
        .select_related("visit")
        .order_by("-at")
        .first()
    )
    if called is not None:
        shots.attempt("visitor-called", lambda: phone(shots, called.visit.token, "visitor-called"))
    shots.attempt("display", lambda: display(shots))

    first(desk.get_by_role("button", name=shots.t("Start the interview"), exact=True)).click()
    desk.wait_for_load_state()
    shots.take("desk-interview", desk)
    # The visitor reached the desk: their call has left the TV, which is between calls.
    shots.attempt("display-between-calls", lambda: display(shots, "display-between-calls"))

    served = Visit.objects.filter(status=Visit.Status.DONE).order_by("-ended_at").first()
    if served is not None:
        shots.attempt("feedback-phone", lambda: feedback_phone(shots, served.token))
    waiting = Visit.objects.filter(status=Visit.Status.WAITING).order_by("-queued_at").first()
    if waiting is None:
        raise Skipped("no visitor is waiting for the phone's shot")
    phone(shots, waiting.token, "visitor-waiting")


def phone(shots: Shots, token: str, name: str) -> None:
    page = shots.page(PHONE)
    goto(page, f"/t/{token}/")
    shots.take(name, page)


def feedback_phone(shots: Shots, token: str) -> None:
    page = shots.page(PHONE)
    goto(page, f"/t/{token}/feedback/")
    shots.take("feedback-phone", page)


def feedback_kiosk(shots: Shots) -> None:
    """The exit kiosk, set up by reception as a terminal is (which logs reception out of it)."""
    page = shots.page(TABLET, "reception@demo.test")
    goto(page, "/feedback/demo/kiosk/")
    setting_up = page.locator("main form[method=post] button[type=submit]")
    if setting_up.count() and "/setup/" in (setting_up.first.evaluate("b => b.form.action")):
        setting_up.first.click()
        page.wait_for_load_state()
        goto(page, "/feedback/demo/kiosk/")
    shots.take("feedback-kiosk", page)


def display(shots: Shots, name: str = "display") -> None:
    page = shots.page(TV)
    goto(page, "/display/demo/")
    shots.take(name, page)


def kiosk(shots: Shots) -> None:
    page = shots.page(TABLET)
    goto(page, "/catalogue/kiosk/demo/")
    setting_up = page.locator("main form[method=post] button[type=submit]")
    if setting_up.count():  # a browser that is not a kiosk yet: set it up, as a terminal is
        setting_up.first.click()
        page.wait_for_load_state()
        goto(page, "/catalogue/kiosk/demo/")
    shots.take("kiosk-home", page)
    search = first(page.get_by_role("searchbox"), page.locator("input[name=q]"))
    search.fill(SEARCH)
    search.press("Enter")
    page.wait_for_load_state()
    shots.take("kiosk-results", page)


def events(shots: Shots) -> None:
    page = shots.page(PHONE)
    goto(page, "/events/?site=demo")
    shots.take("events-phone", page)
    links = page.eval_on_selector_all(
        "main a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    details = [href for href in links if re.fullmatch(r"/events/\d+/", href.split("?")[0])]
    if not details:
        raise Skipped("no event is listed")
    goto(page, details[0])
    shots.take("event-phone", page)


def verify(shots: Shots) -> None:
    page = shots.page(PHONE)
    goto(page, "/verify/")
    shots.take("verify-phone", page)


def public(shots: Shots, name: str, path: str) -> None:
    page = shots.page(PHONE)
    goto(page, path)
    shots.take(name, page)


def staff_screen(shots: Shots, name: str, email: str, path: str, viewport: dict) -> None:
    page = shots.page(viewport, email)
    goto(page, path)
    shots.take(name, page)


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Debian's chromium is not on the PATH.", file=sys.stderr)
        return 2
    taken, skipped = [], []
    with sync_playwright() as playwright:
        for language in LANGUAGES:
            # The browser's own controls (a date field's dd/mm/yyyy, a file picker's button) speak
            # the language chromium runs in, not the page's: one browser per language (with
            # Debian's chromium-l10n installed; without it they stay in English).
            browser = playwright.chromium.launch(
                executable_path=chromium, args=ARGS, env={**os.environ, "LANGUAGE": language}
            )
            shots = Shots(browser, language)
            shots.attempt("reception-tablet", lambda s=shots: reception(s))
            shots.attempt("desk", lambda s=shots: desk_and_what_it_moves(s))
            shots.attempt("kiosk", lambda s=shots: kiosk(s))
            shots.attempt("feedback-kiosk", lambda s=shots: feedback_kiosk(s))
            shots.attempt("events", lambda s=shots: events(s))
            shots.attempt("verify-phone", lambda s=shots: verify(s))
            for name, path in (("site-page", "/s/demo/"), ("booking-phone", "/appointments/demo/")):
                shots.attempt(name, lambda s=shots, n=name, p=path: public(s, n, p))
            for name, email, path, viewport in (
                ("dashboard", "manager@demo.test", "/manage/", TABLET),
                ("planning", "manager@demo.test", "/manage/planning/", TABLET),
                ("desk-day", COUNSELLORS[shots.language], "/desk/day/", TABLET),
                (
                    "reception-appointments",
                    "reception@demo.test",
                    "/reception/appointments/",
                    TABLET,
                ),
                ("organiser", "organiser@demo.test", "/events/manage/", PC),
                ("information-officer", "librarian@demo.test", "/catalogue/staff/", PC),
            ):
                shots.attempt(
                    name,
                    lambda s=shots, n=name, e=email, p=path, v=viewport: staff_screen(
                        s, n, e, p, v
                    ),
                )
            taken += shots.taken
            skipped += shots.skipped
            browser.close()
    print("\n".join(str(path.relative_to(ROOT)) for path in taken))
    print(f"{len(taken)} screenshots taken, {len(skipped)} skipped.")
    for line in skipped:
        print(f"  skipped {line}")
    return 0 if taken else 1


if __name__ == "__main__":
    sys.exit(main())
