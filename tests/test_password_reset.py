"""Forgotten passwords: a link from the login page, an e-mail in both languages, a new password."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD


@pytest.fixture
def carol_with_address(carol: User) -> User:
    carol.email = "carol@example.org"
    carol.save()
    return carol


def reset_link(body: str) -> str:
    return re.search(r"http://testserver(/accounts/reset/\S+/)", body)[1]


def test_the_login_page_links_to_the_password_reset(client: Client, db) -> None:
    page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in page


def test_a_user_resets_a_forgotten_password_through_the_e_mailed_link(
    client: Client, carol_with_address: User
) -> None:
    response = client.post(reverse("password_reset"), {"email": "carol@example.org"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("password_reset_done")
    assert "Check your e-mail" in response.content.decode()

    [message] = mail.outbox
    assert message.to == ["carol@example.org"]
    assert "reset your password" in message.subject and "重置密码" in message.subject
    assert "If you did not ask for it" in message.body
    assert "如非本人申请" in message.body
    link = reset_link(message.body)

    form = client.get(link, follow=True)
    assert 'name="new_password1"' in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-New-pass-phrase-42", "new_password2": "a-New-pass-phrase-42"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")

    assert not Client().login(username="carol", password=PASSWORD)
    assert Client().login(username="carol", password="a-New-pass-phrase-42")
    # The link works once.
    again = client.get(link, follow=True).content.decode()
    assert "This link is not valid" in again


def test_an_unknown_address_sends_nothing_and_says_the_same(client: Client, db) -> None:
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("password_reset_done")
    assert mail.outbox == []


def test_the_reset_pages_speak_chinese(client: Client, carol_with_address: User) -> None:
    zh = {"accept-language": "zh-hans"}
    assert "忘记密码？" in client.get(reverse("login"), headers=zh).content.decode()
    assert "重置密码" in client.get(reverse("password_reset"), headers=zh).content.decode()
    assert (
        "请查收电子邮件" in client.get(reverse("password_reset_done"), headers=zh).content.decode()
    )
    bad = client.get(reverse("password_reset_confirm", args=["xx", "set-password"]), headers=zh)
    assert "该链接无效" in bad.content.decode()
