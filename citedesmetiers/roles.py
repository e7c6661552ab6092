"""Staff roles. Each is a Django group of the same name, created by a data migration."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION = "reception", _("reception agent")
    COUNSELLOR = "counsellor", _("counsellor")
    INFORMATION_OFFICER = "information_officer", _("information officer")
    EVENT_ORGANISER = "event_organiser", _("event organiser")
    MANAGER = "manager", _("manager")


# Roles that must enrol in two-factor authentication (superusers too).
ROLES_REQUIRING_MFA = {Role.MANAGER}

# What each role may do in the Django admin, as "app_label.codename". Synced after every migrate
# (the permissions themselves only exist once post_migrate has run).
# Which objects a manager sees and changes with them is limited to the places they manage
# (`citedesmetiers.admin`).
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.MANAGER: [
        f"citedesmetiers.{action}_{model}"
        for model in ("site", "openingperiod", "theme", "partner", "staffmembership", "user")
        for action in ("view", "add", "change")
    ]
    + [
        "citedesmetiers.delete_staffmembership",
        "citedesmetiers.view_cite",
        "citedesmetiers.view_auditentry",
    ]
    + [f"sitepage.{action}_receptionprotocol" for action in ("view", "add", "change", "delete")],
    Role.INFORMATION_OFFICER: [],
    Role.EVENT_ORGANISER: [],
    Role.RECEPTION: [],
    Role.COUNSELLOR: [],
}


def sync_role_permissions(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        wanted = set()
        for name in names:
            app_label, codename = name.split(".")
            wanted |= set(
                Permission.objects.filter(
                    content_type__app_label=app_label, codename=codename
                ).values_list("pk", flat=True)
            )
        group.permissions.set(wanted)
