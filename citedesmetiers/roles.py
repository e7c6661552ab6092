"""Staff roles. Each is a Django group of the same name, created by a data migration."""

from django.apps import apps
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


def sync_role_permissions(app_config, **kwargs) -> None:
    """Give each role's group its permissions, once per migrate (and per test database flush):
    post_migrate is sent for every app in turn, and every app's permissions exist only once the
    last app's has been sent."""
    from django.contrib.auth.models import Group, Permission

    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if app_config.label != last.label:
        return
    wanted = {
        role: [tuple(name.split(".")) for name in names] for role, names in ROLE_PERMISSIONS.items()
    }
    codenames = {codename for pairs in wanted.values() for _app_label, codename in pairs}
    pks = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.filter(
            codename__in=codenames
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for role, pairs in wanted.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set([pks[pair] for pair in pairs if pair in pks])
