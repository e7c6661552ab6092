"""Writes of the kernel: who holds which role where."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from .models import Cite, Partner, Site, StaffMembership, User
from .roles import Role


@transaction.atomic
def grant_role(
    *,
    user: User,
    role: Role,
    site: Site | None = None,
    cite: Cite | None = None,
    partner: Partner | None = None,
) -> StaffMembership:
    """Give `user` the `role` at `site`, at `cite` (all its sites) or, with neither, across the
    network; their membership there is made if needed, and takes `partner` when one is given."""
    if site is not None and cite is not None:
        raise ValueError("A role is held at a site or at a Cité, not both.")
    membership, _created = StaffMembership.objects.get_or_create(user=user, site=site, cite=cite)
    if partner is not None and membership.partner_id != partner.pk:
        membership.partner = partner
        membership.save(update_fields=["partner"])
    membership.roles.add(Group.objects.get_or_create(name=Role(role).value)[0])
    return membership
