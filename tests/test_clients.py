"""Behind the TLS proxy, every request comes from the proxy's address: the client is read from
X-Forwarded-For at TRUSTED_PROXY_COUNT, so rate limits hold each client, not the deployment."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from citedesmetiers.clients import client_ip, client_key, client_network
from events.models import Registration
from tests.conftest import PASSWORD
from tests.events_fixtures import make_event

PROXY = "10.0.0.2"


def request_from(forwarded: str | None = None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("198.51.100.7")) == PROXY


def test_behind_one_proxy_the_last_entry_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # Whatever the client wrote itself comes first; our proxy appends what it saw.
    assert client_ip(request_from("6.6.6.6, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(request_from("198.51.100.7:51234")) == "198.51.100.7"
    assert client_ip(request_from("[2001:db8::5]:443")) == "2001:db8::5"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request_from("6.6.6.6, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", "<script>", "1.2.3.4.5"])
def test_a_missing_or_garbled_header_falls_back_to_the_peer(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from(forwarded)) == PROXY


def test_an_ipv6_client_is_counted_per_64_and_networks_are_wider(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    one = request_from("2001:db8:1:2:aaaa::1")
    other = request_from("2001:db8:1:2:bbbb::2")
    assert client_key(one) == client_key(other) == "2001:db8:1:2::/64"
    assert client_network(one) == "2001:db8:1::/48"
    assert client_key(request_from("198.51.100.7")) == "198.51.100.7/32"
    assert client_network(request_from("198.51.100.7")) == "198.51.100.0/24"


def register(client, event, n: int, forwarded: str):
    return client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": f"Visitor {n}", "email": "", "website": ""},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_the_registration_limit_holds_each_client_not_the_whole_deployment(
    centre, client, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.EVENT_REGISTRATIONS_PER_HOUR = 2
    event = make_event(centre.alpha, capacity=50)
    for n in range(3):
        register(client, event, n, "198.51.100.7")
    assert Registration.objects.count() == 2

    # Another visitor behind the same proxy still registers.
    register(client, event, 10, "203.0.113.9")
    assert Registration.objects.filter(pseudonym="Visitor 10").exists()
    # Another address of the first visitor's /64 does not get a new budget.
    register(client, event, 20, "2001:db8::1")
    register(client, event, 21, "2001:db8::1")
    register(client, event, 22, "2001:db8::ffff")
    assert not Registration.objects.filter(pseudonym="Visitor 22").exists()


def test_failed_logins_from_one_client_do_not_lock_out_staff_elsewhere(centre, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(12):
        client.post(
            reverse("account_login"),
            {"login": f"nobody{n}@alpha.test", "password": "wrong"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="6.6.6.6",
        )
    response = client.post(
        reverse("account_login"),
        {"login": "bob@alpha.test", "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 302
    assert response.wsgi_request.user == centre.counsellor_a
