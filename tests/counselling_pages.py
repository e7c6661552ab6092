"""The desk's pages as the view tests drive them: Bob at Desk 1, posting forms and following the
redirect back to the desk, as a browser does."""

from __future__ import annotations

from django.test import Client

from tests.counselling_fixtures import make_desk, open_session


def desk_1(centre):
    return make_desk(centre.alpha, "Desk 1", "E", "F", order=1)


def desk_2(centre):
    return make_desk(centre.alpha, "Desk 2", "E", order=2)


def seated(centre, login, desk) -> Client:
    """Bob, counsellor of partner A, sitting at `desk`."""
    open_session(centre.counsellor_a, desk)
    return login(centre.counsellor_a)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def post(client: Client, path: str, data: dict | None = None):
    """POST and follow the redirect back to the desk, as the browser does."""
    response = client.post(path, data or {}, follow=True)
    back = [(url.split("#")[0], status) for url, status in response.redirect_chain]
    assert back == [("/desk/", 302)], response.redirect_chain
    return response


def finish_data(visit, **extra) -> dict:
    return {"visit": visit.pk, "channel": "in_person", "outcomes": ["information"], **extra}


def referral_data(visit, to_theme, **extra) -> dict:
    """The finish form referring the visitor to the desk of `to_theme`, for another view."""
    return finish_data(
        visit,
        outcomes=["referred_desk"],
        refer_theme=to_theme.pk,
        referral_reason="other_view",
        **extra,
    )


def call_and_start(client: Client, visit) -> None:
    """Call the next visitor (`visit`, the oldest waiting) and start the interview."""
    post(client, "/desk/call-next/")
    post(client, "/desk/start/", {"visit": visit.pk})
