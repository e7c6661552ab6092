"""The audit log: role and membership changes, account flags, and exports of data that leave the
system (registrants, the catalogue, figures). Written where the action happens, read in the
administration by the managers of the place."""

from __future__ import annotations

from .models import AuditEntry, Cite, Site, StaffMembership, User


def record(
    *,
    actor: User | None,
    action: str,
    subject: str,
    detail: str = "",
    site: Site | None = None,
    cite: Cite | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        subject=subject[:200],
        detail=detail[:300],
        site=site,
        cite=cite,
    )


def record_at_places_of(
    user: User, *, actor: User | None, action: str, subject: str, detail: str = ""
) -> None:
    """One entry for each place `user` works at, so the managers of each read it (a single
    one without a place, for superusers and network managers, when they work nowhere)."""
    places = set(StaffMembership.objects.filter(user=user).values_list("site_id", "cite_id"))
    sites = Site.objects.in_bulk([site for site, _cite in places if site])
    cites = Cite.objects.in_bulk([cite for _site, cite in places if cite])
    for site_id, cite_id in sorted(places, key=str) or [(None, None)]:
        record(
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            site=sites.get(site_id),
            cite=cites.get(cite_id),
        )


Places = dict[tuple[int | None, int | None], frozenset[str]]


def places_of(user_id) -> Places:
    """The roles `user_id` holds, by (site id, Cité id): what a change is compared with."""
    places: dict[tuple[int | None, int | None], set[str]] = {}
    for site_id, cite_id, role in StaffMembership.objects.filter(user_id=user_id).values_list(
        "site_id", "cite_id", "roles__name"
    ):
        roles = places.setdefault((site_id, cite_id), set())
        if role:
            roles.add(role)
    return {place: frozenset(roles) for place, roles in places.items()}


def record_role_changes(*, actor: User, user: User, before: Places, after: Places) -> int:
    """One entry per role given or taken away between `before` and `after` (see `places_of`)."""
    sites = Site.objects.in_bulk([site for site, _cite in {*before, *after} if site])
    cites = Cite.objects.in_bulk([cite for _site, cite in {*before, *after} if cite])
    written = 0
    for place in sorted({*before, *after}, key=str):
        site = sites.get(place[0]) if place[0] else None
        cite = cites.get(place[1]) if place[1] else None
        where = str(site or cite or "network")
        old, new = before.get(place, frozenset()), after.get(place, frozenset())
        for action, roles in (
            (AuditEntry.Action.ROLE_GIVEN, new - old),
            (AuditEntry.Action.ROLE_TAKEN, old - new),
        ):
            for role in sorted(roles):
                record(
                    actor=actor,
                    action=action,
                    subject=user.email,
                    detail=f"{role} @ {where}",
                    site=site,
                    cite=cite,
                )
                written += 1
    return written
