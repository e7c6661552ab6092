"""The desk's write operations as the service tests drive them: the four desks of alpha, one-line
actions for a session, and a snapshot of all a desk action can change (a refusal must leave it
as it was)."""

from __future__ import annotations

from types import SimpleNamespace

from counselling import services
from counselling.models import DeskSession, Interview, Outcome
from reception.models import Call, Visit
from tests.counselling_fixtures import make_desk


def alpha_desks(centre) -> SimpleNamespace:
    """Four desks of alpha: jobs (E), mixed (E and F), training (F), business (A)."""
    alpha = centre.alpha
    return SimpleNamespace(
        jobs=make_desk(alpha, "Desk 1", "E", order=1),
        mixed=make_desk(alpha, "Desk 2", "E", "F", order=2),
        training=make_desk(alpha, "Desk 3", "F", order=3),
        business=make_desk(alpha, "Desk 4", "A", order=4),
    )


def call_next(session, **extra):
    return services.call_next(session_id=session.pk, counsellor=session.counsellor, **extra)


def start(session, visit, **extra):
    return services.start_interview(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def finish(session, visit, **extra):
    extra.setdefault("outcomes", [Outcome.Code.INFORMATION])
    return services.finish_interview(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def hand_back(session, visit, **extra):
    return services.hand_back(
        session_id=session.pk, counsellor=session.counsellor, visit_id=visit.pk, **extra
    )


def close(session, **extra):
    return services.close_desk(session_id=session.pk, counsellor=session.counsellor, **extra)


def snapshot() -> tuple:
    """Everything a desk action can change, to prove a refusal changed nothing."""
    return (
        list(
            Visit.objects.order_by("pk").values_list(
                "pk",
                "status",
                "theme_id",
                "desk_id",
                "queued_at",
                "called_at",
                "no_show_at",
                "started_at",
                "ended_at",
            )
        ),
        list(Call.objects.order_by("pk").values_list("pk", "visit_id", "desk_id", "kind")),
        list(Interview.objects.order_by("pk").values_list("pk", "visit_id", "ended_at", "channel")),
        list(Outcome.objects.order_by("pk").values_list("pk", "code")),
        list(DeskSession.objects.order_by("pk").values_list("pk", "closed_at", "paused_since")),
    )
