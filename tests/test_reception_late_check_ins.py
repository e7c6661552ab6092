"""After hours, reception turns late check-ins on once: they stay on for the rest of the site's
local day, for every tablet of the site, until turned off; a refused request never turns them on.

Personas (tests/conftest.py): Zoe is the reception agent of site Gamma, which has no opening hours
(always closed); Alice works at site Alpha (always open)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from citedesmetiers.roles import Role
from reception import services
from reception.models import LateCheckInDay, Visit
from tests.conftest import make_site, make_staff

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def gamma(db):
    site = make_site("gamma", always_open=False)
    make_staff("zoe@gamma.test", Role.RECEPTION, site)
    return site


@pytest.fixture
def zoe(gamma, login, django_user_model):
    return login(django_user_model.objects.get(email="zoe@gamma.test"))


def check_in(site, **kwargs) -> Visit:
    theme = site.themes.get(letter="E")
    return services.check_in(site=site, theme_id=theme.pk, **kwargs)[0]


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


# --- the service ---------------------------------------------------------------------------------


def test_once_turned_on_every_check_in_of_the_day_goes_through(gamma):
    services.allow_late_check_ins(site=gamma)

    codes = [check_in(gamma).code for _ in range(3)]

    assert codes == ["E-001", "E-002", "E-003"]


def test_while_the_site_is_open_the_switch_is_refused_and_nothing_is_kept(db, login):
    # On at 11:00, it would quietly stay on after closing, with nobody having seen it.
    alpha = make_site("alpha")  # open round the clock
    make_staff("yan@alpha.test", Role.RECEPTION, alpha)

    with pytest.raises(services.ReceptionError):
        services.allow_late_check_ins(site=alpha)
    client = login(alpha.memberships.get().user)
    response = client.post(reverse("reception:late_check_ins"), {"late": "on"}, follow=True)

    assert ("error", "The site is open: everyone checks in as usual.") in messages_of(response)
    assert not LateCheckInDay.objects.exists()


def test_check_in_anyway_turns_late_check_ins_on_for_the_next_visitors(gamma):
    first = check_in(gamma, override_hours=True)
    second = check_in(gamma)  # without ticking anything again

    assert (first.code, second.code) == ("E-001", "E-002")
    assert services.late_check_ins(gamma) is not None


def test_late_check_ins_end_with_the_sites_local_day(gamma):
    evening = dt.datetime(2026, 5, 6, 22, 0, tzinfo=PARIS)
    services.allow_late_check_ins(site=gamma, now=evening)
    assert check_in(gamma, now=evening + dt.timedelta(hours=1, minutes=30)).code == "E-001"

    with pytest.raises(services.SiteClosed):
        check_in(gamma, now=dt.datetime(2026, 5, 7, 0, 1, tzinfo=PARIS))


def test_late_check_ins_are_per_site(gamma):
    delta = make_site("delta", always_open=False)
    services.allow_late_check_ins(site=gamma)

    with pytest.raises(services.SiteClosed):
        check_in(delta)
    assert not Visit.objects.filter(site=delta).exists()


def test_turned_off_the_site_is_closed_again(gamma):
    services.allow_late_check_ins(site=gamma)

    assert services.stop_late_check_ins(site=gamma) is True
    assert services.stop_late_check_ins(site=gamma) is False
    with pytest.raises(services.SiteClosed):
        check_in(gamma)
    assert not Visit.objects.exists()


def test_turning_it_on_twice_keeps_the_first_time_and_drops_earlier_days(gamma):
    morning = timezone.now().astimezone(PARIS).replace(hour=8, minute=0)
    LateCheckInDay.objects.create(
        site=gamma, local_date=morning.date() - dt.timedelta(days=1), since=morning
    )

    first = services.allow_late_check_ins(site=gamma, now=morning)
    again = services.allow_late_check_ins(site=gamma, now=morning + dt.timedelta(hours=2))

    assert again.pk == first.pk and again.since == morning
    assert list(LateCheckInDay.objects.values_list("local_date", flat=True)) == [morning.date()]


@pytest.mark.parametrize(
    "refused", [{"theme_id": 999999}, {"age_bracket": "42"}, {"channel": "carrier pigeon"}]
)
def test_a_refused_check_in_anyway_does_not_turn_late_check_ins_on(gamma, refused):
    theme = gamma.themes.get(letter="E")
    with pytest.raises(services.ReceptionError):
        services.check_in(site=gamma, **{"theme_id": theme.pk, **refused}, override_hours=True)
    assert not LateCheckInDay.objects.exists()
    assert not Visit.objects.exists()


def test_check_in_anyway_while_open_writes_nothing_more(centre):
    check_in(centre.alpha, override_hours=True)
    assert not LateCheckInDay.objects.exists()


# --- the tablet ----------------------------------------------------------------------------------


def test_the_tablet_shows_late_check_ins_on_with_a_way_to_turn_them_off(gamma, zoe):
    response = zoe.post(reverse("reception:late_check_ins"), {"late": "on"}, follow=True)

    assert messages_of(response) == [
        ("success", "Late arrivals can check in for the rest of today.")
    ]
    page = response.content.decode()
    since = f"{services.late_check_ins(gamma).since.astimezone(PARIS):%H:%M}"
    assert f"Late check-ins on for the rest of today (since {since})." in page
    assert 'name="late" value="off"' in page
    assert "closed now" not in page

    response = zoe.post(reverse("reception:late_check_ins"), {"late": "off"}, follow=True)
    assert messages_of(response) == [
        ("success", "Late check-ins are off: the site's opening hours apply.")
    ]
    assert services.late_check_ins(gamma) is None
    assert "Site Gamma is closed now." in response.content.decode()


def test_a_second_tablet_checks_in_without_ticking_anything(gamma, zoe, client):
    check_in(gamma, override_hours=True)  # the first tablet ticked “check in anyway”

    response = client.post(
        reverse("reception:check_in"),
        {"theme": gamma.themes.get(letter="F").pk, "checkin_key": "0" * 32},
    )

    visit = Visit.objects.get(letter="F")
    assert response.url == reverse("reception:checked_in", args=[visit.pk])


@pytest.mark.parametrize("late", ["", "maybe", "ON"])
def test_a_bad_switch_value_is_refused_and_changes_nothing(gamma, zoe, late):
    response = zoe.post(reverse("reception:late_check_ins"), {"late": late}, follow=True)

    assert messages_of(response) == [("error", "Choose to turn late check-ins on or off.")]
    assert not LateCheckInDay.objects.exists()


def test_the_switch_needs_a_post_and_a_reception_agent(gamma, zoe, centre, login):
    assert zoe.get(reverse("reception:late_check_ins")).status_code == 405

    response = login(centre.counsellor_a).post(reverse("reception:late_check_ins"), {"late": "on"})
    assert response.status_code == 403
    assert not LateCheckInDay.objects.exists()
