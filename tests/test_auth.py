"""Logging in and out, and what anonymous visitors and signed-in users see in the header."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_zone


@pytest.fixture
def zone(db):
    return make_zone(name_zh="杭州", name_en="Hangzhou")


@pytest.mark.parametrize(
    "url_name, kwargs",
    [
        ("home", {}),
        ("registry:zone_list", {}),
        ("registry:zone_detail", {"slug": "hangzhou"}),
        ("registry:batch_list", {}),
    ],
)
def test_each_page_sends_anonymous_visitors_to_login(
    client: Client, zone, url_name: str, kwargs: dict
) -> None:
    url = reverse(url_name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_login_page_shows_a_labelled_form(client: Client, db) -> None:
    response = client.get(reverse("login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html
    assert '<label for="id_password">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # The header offers a way in, not a way out.
    assert reverse("logout") not in html


def test_a_good_login_lands_on_home(client: Client, dave) -> None:
    response = client.post(reverse("login"), {"username": "dave", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session[SESSION_KEY] == str(dave.pk)


def test_a_login_returns_to_the_page_asked_for(client: Client, dave) -> None:
    zones_url = reverse("registry:zone_list")

    response = client.post(
        reverse("login"), {"username": "dave", "password": PASSWORD, "next": zones_url}
    )

    assert response["Location"] == zones_url


def test_a_login_does_not_follow_a_next_to_another_host(client: Client, dave) -> None:
    response = client.post(
        reverse("login"),
        {"username": "dave", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("home")


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client: Client, dave) -> None:
    response = client.post(reverse("login"), {"username": "dave", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_logout_by_post_ends_the_session_and_returns_to_login(client: Client, dave) -> None:
    client.force_login(dave)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_logout_by_get_is_refused_so_a_link_cannot_sign_anyone_out(client: Client, dave) -> None:
    client.force_login(dave)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_header_shows_the_user_name_and_a_logout_form(client: Client, dave) -> None:
    client.force_login(dave)

    html = client.get(reverse("home")).content.decode()

    assert '<span class="site-user">dave</span>' in html
    assert f'<form class="inline-form" method="post" action="{reverse("logout")}">' in html


def test_header_links_to_the_admin_for_staff(client: Client, alice) -> None:
    client.force_login(alice)

    html = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("admin:index")}"' in html


def test_header_hides_the_admin_link_from_other_users(client: Client, dave, bob) -> None:
    for user in (dave, bob):
        client.force_login(user)

        html = client.get(reverse("home")).content.decode()

        assert reverse("admin:index") not in html
