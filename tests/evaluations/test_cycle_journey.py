"""Two whole cycles through HTTP, from opening to a zone's exit.

alice (an Administrator) opens each cycle on the admin's add page, gives grade 1 to the top
zone alone (the cycle's policy) and assigns its evaluations to carol with the admin action;
carol (a Reviewer) enters every score on the entry form and submits; bob (an Approver)
approves each one; the cycle is published with ``publish_cycle`` (there is no page for it);
bob then decides on the rule's recommendations on the decisions page. Weakling, far behind
the other three zones, is graded 4 twice: warned after 2021, recommended for exit after
2022, exited by bob's decision, and left out of the cycle of 2023.
"""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from evaluations.framework import framework_load
from evaluations.models import (
    Cycle,
    CycleStatus,
    Decision,
    Evaluation,
    EvaluationStatus,
    Grade,
    Recommendation,
)
from registry.models import Zone, ZoneStatus
from tests.factories import PASSWORD, make_batch, make_province, make_zone

# How much of each indicator's range each zone reaches: Weakling is far behind.
SHARES = {"Alpha": Decimal("0.9"), "Bravo": Decimal("0.8"), "Charlie": Decimal("0.7")}
WEAK_SHARE = Decimal("0.1")


# --- helpers -----------------------------------------------------------------------------


class FormReader(HTMLParser):
    """What a browser would send for one form as it stands: every field with its value."""

    def __init__(self, attribute: str, value: str) -> None:
        super().__init__()
        self.wanted = (attribute, value)
        self.inside = False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            attribute, value = self.wanted
            self.inside = value in attributes.get(attribute, "").split()
        if not self.inside:
            return
        name = attributes.get("name", "")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.data[name] = attributes.get("value", "on")
                return
            self.data[name] = attributes.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attributes:
            self.data[self._select] = attributes.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_data(page: str, attribute: str, value: str) -> dict[str, str]:
    """The fields of the page's form whose ``attribute`` (id, class) holds ``value``."""
    reader = FormReader(attribute, value)
    reader.feed(page)
    return reader.data


def log_in(username: str) -> Client:
    """A browser that logs in through the login page, as a person would."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def html(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def value_for(valid_range: str, share: Decimal) -> str:
    """A valid figure reaching ``share`` of an indicator's range ("0 – 10" for points)."""
    points = re.fullmatch(r"0 – (\d+)", valid_range.strip())
    if points:
        return str(Decimal(points[1]) * share)
    # Measures: above R1's log-scale 0 and within the ranges of R2..R5.
    return str(Decimal(1) + share * 100)


def entry_data(page: str, share: Decimal) -> dict[str, str]:
    """The entry form as the page shows it, with every value filled in."""
    data = form_data(page, "class", "entry-form")
    rows = re.findall(
        r'<span class="indicator-code">\w+</span>.*?<td class="nowrap">([^<]*)</td>.*?'
        r'name="(value_\d+)"',
        page,
        re.S,
    )
    for valid_range, field in rows:
        data[field] = value_for(valid_range, share)
    return data


# --- the steps ---------------------------------------------------------------------------


def alice_opens_the_cycle(alice: Client, year: int) -> Cycle:
    response = alice.post(reverse("admin:evaluations_cycle_add"), {"year": year, "cutoff": ""})
    assert response.status_code == 302, html(response)
    return Cycle.objects.get(year=year)


def alice_sets_grade_1_to_the_top_zone_alone(alice: Client, cycle: Cycle) -> None:
    url = reverse("admin:evaluations_cycle_change", args=[cycle.pk])
    data = form_data(html(alice.get(url)), "id", "cycle_form")
    data["grade1_size"] = "1"
    data["_save"] = "Save"
    response = alice.post(url, data)
    assert response.status_code == 302, html(response)
    cycle.refresh_from_db()
    assert cycle.grade1_size == 1


def alice_assigns_every_evaluation_to(alice: Client, cycle: Cycle, reviewer: User) -> None:
    url = reverse("admin:evaluations_evaluation_changelist")
    response = alice.post(
        url,
        {
            "action": "assign_to_reviewer",
            "_selected_action": list(cycle.evaluations.values_list("pk", flat=True)),
            "reviewer": reviewer.pk,
            "apply": "1",
        },
    )
    assert response.status_code == 302
    assert set(cycle.evaluations.values_list("reviewer", flat=True)) == {reviewer.pk}


def carol_enters_and_submits_every_evaluation(carol: Client, cycle: Cycle) -> None:
    for evaluation in cycle.evaluations.select_related("zone").order_by("pk"):
        page = html(carol.get(evaluation.get_absolute_url()))
        data = entry_data(page, SHARES.get(evaluation.zone.name_en, WEAK_SHARE))
        assert len([name for name in data if name.startswith("value_")]) == 16
        response = carol.post(
            reverse("evaluations:evaluation_submit", kwargs={"pk": evaluation.pk}), data
        )
        assert response.status_code == 302, html(response)
    assert set(cycle.evaluations.values_list("status", flat=True)) == {EvaluationStatus.SUBMITTED}


def bob_approves_every_evaluation(bob: Client, cycle: Cycle) -> None:
    for evaluation in cycle.evaluations.order_by("pk"):
        page = html(bob.get(evaluation.get_absolute_url()))
        version = re.search(
            r'action="/evaluations/\d+/approve/".*?name="version" value="(\d+)"', page, re.S
        )[1]
        response = bob.post(
            reverse("evaluations:evaluation_approve", kwargs={"pk": evaluation.pk}),
            {"version": version},
        )
        assert response.status_code == 302
    assert set(cycle.evaluations.values_list("status", flat=True)) == {EvaluationStatus.APPROVED}


def the_cycle_is_published(cycle: Cycle) -> str:
    out = io.StringIO()
    call_command("publish_cycle", str(cycle.year), stdout=out)
    cycle.refresh_from_db()
    assert cycle.status == CycleStatus.PUBLISHED
    return out.getvalue()


def bob_decides(bob: Client, decision: Decision, outcome: str, rationale: str) -> None:
    page = html(
        bob.get(reverse("evaluations:cycle_decisions", kwargs={"year": decision.cycle.year}))
    )
    action = reverse(
        "evaluations:decision_record", kwargs={"year": decision.cycle.year, "pk": decision.pk}
    )
    assert f'action="{action}#decision-{decision.pk}"' in page
    response = bob.post(action, {"outcome": outcome, "rationale": rationale}, follow=True)
    assert response.status_code == 200
    if outcome == "exit":
        # An exit is applied only once its confirmation page is answered.
        assert "Confirm the exit of 1 zone" in html(response)
        response = bob.post(
            action,
            {"outcome": outcome, "rationale": rationale, "confirm_exit": "on"},
            follow=True,
        )
    assert len(messages_of(response)) == 1


# --- the journey -------------------------------------------------------------------------


@pytest.fixture
def register(db) -> dict[str, Zone]:
    """Four zones approved in 2019; Weakling is the one that falls behind."""
    framework_load()
    province = make_province()
    batch = make_batch(approved_on=datetime.date(2019, 6, 1))
    return {
        name: make_zone(name_en=name, name_zh=name_zh, province=province, batch=batch)
        for name, name_zh in [
            ("Alpha", "甲市"),
            ("Bravo", "乙市"),
            ("Charlie", "丙市"),
            ("Weakling", "弱市"),
        ]
    }


def test_two_cycles_from_opening_to_a_weak_zones_exit(
    register: dict[str, Zone], alice: User, bob: User, carol: User, dave: User
) -> None:
    alice_browser, bob_browser, carol_browser = log_in("alice"), log_in("bob"), log_in("carol")
    weakling = register["Weakling"]

    # 2021: opened, policy set, assigned, entered, approved, published.
    cycle = alice_opens_the_cycle(alice_browser, 2021)
    assert cycle.evaluations.count() == 4
    # The admin's change page of an open cycle fails today (see the expected failure below),
    # so the policy is set as that page would set it.
    Cycle.objects.filter(pk=cycle.pk).update(grade1_size=1)
    alice_assigns_every_evaluation_to(alice_browser, cycle, carol)
    carol_enters_and_submits_every_evaluation(carol_browser, cycle)
    bob_approves_every_evaluation(bob_browser, cycle)
    assert "1 warn, 0 exit" in the_cycle_is_published(cycle)

    grades = dict(cycle.evaluations.values_list("zone__name_en", "grade"))
    assert grades["Alpha"] == Grade.NOTABLE
    assert grades["Weakling"] == Grade.STARTING
    warning = Decision.objects.select_related("cycle").get(cycle=cycle)
    assert (warning.zone, warning.recommendation) == (weakling, Recommendation.WARN)

    bob_decides(bob_browser, warning, "warn", "Far behind on every indicator; rectify.")
    weakling.refresh_from_db()
    assert weakling.status == ZoneStatus.ON_NOTICE

    # 2022: the new cycle copies the policy; Weakling fails again.
    cycle = alice_opens_the_cycle(alice_browser, 2022)
    assert cycle.grade1_size == 1
    alice_assigns_every_evaluation_to(alice_browser, cycle, carol)
    carol_enters_and_submits_every_evaluation(carol_browser, cycle)
    bob_approves_every_evaluation(bob_browser, cycle)
    assert "0 warn, 1 exit" in the_cycle_is_published(cycle)

    exit_recommendation = Decision.objects.select_related("cycle").get(cycle=cycle)
    assert (exit_recommendation.zone, exit_recommendation.recommendation) == (
        weakling,
        Recommendation.EXIT,
    )
    bob_decides(bob_browser, exit_recommendation, "exit", "Graded 4 twice in a row.")
    weakling.refresh_from_db()
    assert weakling.status == ZoneStatus.EXITED

    # The zone page tells the story; the next cycle leaves Weakling out.
    page = html(log_in("dave").get(weakling.get_absolute_url()))
    assert "This zone exited on" in page
    assert "Decided by bob after the evaluation of 2022:" in page
    assert "Graded 4 twice in a row." in page
    assert re.findall(r'<tr class="cycle-result">\s*<th scope="row">\s*(\d+)', page) == [
        "2021",
        "2022",
    ]

    call_command("open_cycle", "2023", stdout=io.StringIO())
    later = Cycle.objects.get(year=2023)
    assert later.evaluations.count() == 3
    assert not later.evaluations.filter(zone=weakling).exists()
    assert Evaluation.objects.filter(zone=weakling).count() == 2


def test_alice_changes_an_open_cycles_policy_on_the_admins_change_page(
    register: dict[str, Zone], alice: User
) -> None:
    alice_browser = log_in("alice")
    cycle = alice_opens_the_cycle(alice_browser, 2021)

    alice_sets_grade_1_to_the_top_zone_alone(alice_browser, cycle)
