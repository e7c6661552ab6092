"""Take the README's screenshots from a running demo (`make run`), as a person would see it.

    .venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]

Uses Debian's chromium through Playwright; checks visitors in on the tablet, calls one at a desk and
starts the interview, so the screens have something to show."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1280, "height": 720}


def context(browser, viewport, email=None):
    ctx = browser.new_context(viewport=viewport, locale="fr-FR", base_url=BASE)
    page = ctx.new_page()
    if email:
        page.goto("/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", "demo-password")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    return page


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        tablet = context(browser, TABLET, "reception@demo.test")
        tablet.goto("/reception/")
        if tablet.locator("button[name=late][value=on]").count():  # after hours: for the day
            tablet.locator("button[name=late][value=on]").click()
        for index in range(7):
            tablet.goto("/reception/")
            tablet.locator(".theme-button").nth(index % 4 + 1).click()
            tablet.wait_for_load_state()
        tablet.goto("/reception/")
        tablet.screenshot(path=OUT / "reception-tablet.png")

        desk = context(browser, TABLET, "counsellor1@demo.test")
        desk.goto("/desk/")
        if desk.locator("form[action*='/desk/open/'] button").count():
            desk.locator("form[action*='/desk/open/'] button").nth(2).click()
        if desk.locator("button.call-next").count():
            desk.locator("button.call-next").click()
        desk.wait_for_load_state()
        desk.screenshot(path=OUT / "desk.png")
        if desk.locator("form[action*='/desk/start/'] button").count():
            desk.locator("form[action*='/desk/start/'] button").click()
            desk.wait_for_load_state()
        desk.screenshot(path=OUT / "desk-interview.png", full_page=True)

        screen = context(browser, SCREEN)
        screen.goto("/display/demo/")
        screen.wait_for_timeout(500)
        screen.screenshot(path=OUT / "display.png")

        manager = context(browser, TABLET, "manager@demo.test")
        manager.goto("/manage/")
        manager.screenshot(path=OUT / "dashboard.png", full_page=False)

        catalogue = context(browser, TABLET)
        # Set up as a terminal is: the kiosk address, then its button.
        catalogue.goto("/catalogue/kiosk/demo/")
        catalogue.locator("main form button[type=submit]").click()
        catalogue.wait_for_url("**/catalogue/kiosk/demo/")
        catalogue.screenshot(path=OUT / "kiosk-home.png")
        catalogue.goto("/catalogue/?q=metiers+sante")
        catalogue.screenshot(path=OUT / "kiosk-results.png")

        events = context(browser, PHONE)
        events.goto("/events/?site=demo")
        events.screenshot(path=OUT / "events-phone.png")

        token = _a_waiting_token()
        if token:
            phone = context(browser, PHONE)
            phone.goto(f"/t/{token}/")
            phone.screenshot(path=OUT / "visitor-phone.png")
        browser.close()


def _a_waiting_token() -> str | None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from reception.models import Visit

    visit = Visit.objects.filter(status=Visit.Status.WAITING).order_by("-queued_at").first()
    return visit.token if visit else None


if __name__ == "__main__":
    main()
    print("\n".join(sorted(str(p) for p in OUT.glob("*.png"))))
