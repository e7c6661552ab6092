"""The staff screens, by role: the staff home page sends each person to theirs."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .roles import Role


@dataclass(frozen=True)
class Screen:
    url_name: str
    title: str | Promise
    description: str | Promise
    roles: tuple[Role, ...]
    needs_admin: bool = False


SCREENS: list[Screen] = [
    Screen(
        "reception:tablet",
        _("Reception"),
        _("Check walk-ins in by theme and follow every queue."),
        (Role.RECEPTION, Role.MANAGER),
    ),
    Screen(
        "counselling:desk",
        _("My desk"),
        _("Open a desk, call the next visitor, record the interview, refer."),
        (Role.COUNSELLOR,),
    ),
    Screen(
        "events_organiser:list",
        _("Events"),
        _("Plan workshops, follow registrations, take attendance."),
        (Role.EVENT_ORGANISER, Role.MANAGER),
    ),
    Screen(
        "resources_staff:list",
        _("Catalogue"),
        _("Keep the documentation catalogue; import and export it as a spreadsheet."),
        (Role.INFORMATION_OFFICER, Role.MANAGER),
    ),
    Screen(
        "manage:dashboard",
        _("Dashboard"),
        _("Today live, the month so far, and the monthly reports."),
        (Role.MANAGER,),
    ),
    Screen(
        "planning:week",
        _("Presence plan"),
        _("Which partner staffs which desk, for which themes, week by week."),
        (Role.MANAGER,),
    ),
    Screen(
        "admin:index",
        _("Administration"),
        _("Sites, opening hours, themes, partner institutions and staff accounts."),
        (Role.MANAGER, Role.INFORMATION_OFFICER, Role.EVENT_ORGANISER),
        needs_admin=True,
    ),
]


def screens_for(user) -> list[Screen]:
    return [
        screen
        for screen in SCREENS
        if user.has_role(*screen.roles) and (user.is_staff or not screen.needs_admin)
    ]
