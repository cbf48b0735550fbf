"""The evaluation pages through HTTP: entering, submitting, approving, returning, the queue, home.

carol and erin are Reviewers, bob an Approver, alice an Administrator, dave a Viewer. The
cycle of 2021 is open with three evaluations (Alpha, Bravo, Charlie); carol reviews Alpha.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from evaluations.models import (
    Cycle,
    CycleStatus,
    Evaluation,
    EvaluationStatus,
    Indicator,
    Score,
)
from evaluations.services import cycle_open, evaluation_assign
from evaluations.values import DOES_NOT_FIT as _DOES_NOT_FIT
from registry.models import Region
from tests.factories import make_batch, make_province, make_user, make_zone
from zonetracker.permissions import APPROVER, REVIEWER

# What every path says of a value the value column cannot hold.
DOES_NOT_FIT = str(_DOES_NOT_FIT)

# A valid value for each indicator of the default framework.
COMPLETE = {
    **dict.fromkeys(["P1", "P2", "P3", "S1", "S2", "S3", "S4", "S5", "S6", "T1", "T2"], "8"),
    "R1": "120.5",
    "R2": "15",
    "R3": "40",
    "R4": "12",
    "R5": "3",
}


# --- helpers -----------------------------------------------------------------------------


def html(response) -> str:
    return response.content.decode()


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(evaluation: Evaluation) -> str:
    return reverse("evaluations:evaluation_detail", kwargs={"pk": evaluation.pk})


def action_url(evaluation: Evaluation, action: str) -> str:
    return reverse(f"evaluations:evaluation_{action}", kwargs={"pk": evaluation.pk})


def queue_url(year: int = 2021) -> str:
    return reverse("evaluations:cycle_evaluations", kwargs={"year": year})


def entry(
    evaluation: Evaluation,
    values: dict[str, str],
    notes: dict[str, str] | None = None,
    version: int | None = None,
) -> dict[str, str]:
    """The entry form's POST data: a value and a note for every indicator, and the version."""
    notes = notes or {}
    data = {"version": str(evaluation.version if version is None else version)}
    for indicator in evaluation.cycle.indicators.all():
        data[f"value_{indicator.pk}"] = values.get(indicator.code, "")
        data[f"note_{indicator.pk}"] = notes.get(indicator.code, "")
    return data


def fresh(evaluation: Evaluation) -> Evaluation:
    return Evaluation.objects.select_related("cycle").get(pk=evaluation.pk)


def value_of(evaluation: Evaluation, code: str) -> Decimal | None:
    score = Score.objects.filter(evaluation=evaluation, indicator__code=code).first()
    return score.value if score else None


def indicator(evaluation: Evaluation, code: str) -> Indicator:
    return evaluation.cycle.indicators.get(code=code)


def input_value(page: str, name: str) -> str | None:
    """The value attribute of the input called ``name``, as the browser would show it."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'value="([^"]*)"', tag[0])
    return unescape(value[1]) if value else ""


def indicator_row(page: str, code: str) -> str:
    match = re.search(
        rf'<tr class="indicator[^"]*">\s*<th scope="row"[^>]*>\s*'
        rf'<span class="indicator-code">{code}</span>.*?</tr>',
        page,
        re.S,
    )
    assert match, f"no row for {code}"
    return match[0]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def assign(evaluation: Evaluation, reviewer: User, by: User) -> Evaluation:
    evaluation_assign(
        evaluations=Evaluation.objects.filter(pk=evaluation.pk), reviewer=reviewer, by=by
    )
    return fresh(evaluation)


def with_roles(user: User, *roles: str) -> User:
    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)  # permissions are cached on the user object


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def alpha(cycle: Cycle, alice: User, carol: User) -> Evaluation:
    """Alpha's evaluation, assigned to carol."""
    return assign(cycle.evaluations.get(zone__name_en="Alpha"), carol, alice)


@pytest.fixture
def submitted(alpha: Evaluation, carol: User) -> Evaluation:
    """Alpha's evaluation, complete and submitted by carol."""
    response = login(carol).post(action_url(alpha, "submit"), entry(alpha, COMPLETE))
    assert response.status_code == 302
    evaluation = fresh(alpha)
    assert evaluation.status == EvaluationStatus.SUBMITTED
    return evaluation


@pytest.fixture
def carol_client(carol: User) -> Client:
    return login(carol)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return login(bob)


# --- the entry form ----------------------------------------------------------------------


def test_the_entry_form_groups_the_indicators_by_dimension_in_declared_order(
    carol_client: Client, alpha: Evaluation
) -> None:
    page = html(carol_client.get(detail_url(alpha)))

    headings = re.findall(r'<h3 id="dimension-([a-z_]+)">', page)
    assert headings == [
        "process",
        "information_sharing",
        "financial_services",
        "intelligent_logistics",
        "ecommerce_credit",
        "statistical_monitoring",
        "risk_prevention",
        "online_platform",
        "offline_parks",
        "results",
    ]
    assert ">Process checks</h3>" in page
    codes = re.findall(r'<span class="indicator-code">(\w+)</span>', page)
    assert codes == list(COMPLETE)


def test_each_indicator_shows_its_name_unit_range_help_and_two_inputs(
    carol_client: Client, alpha: Evaluation
) -> None:
    page = html(carol_client.get(detail_url(alpha)))

    p1 = indicator_row(page, "P1")
    assert "Implementation of the zone&#x27;s plan" in p1
    assert "<td>points</td>" in p1
    assert "0 – 10" in p1
    assert "Points for how far the tasks" in p1
    p1_id = indicator(alpha, "P1").pk
    assert f'name="value_{p1_id}"' in p1
    assert f'name="note_{p1_id}"' in p1
    r1 = indicator_row(page, "R1")
    assert "<td>100 million yuan</td>" in r1
    assert "0.01 – 100000" in r1
    r2 = indicator_row(page, "R2")
    assert "-100 – 1000" in r2


def test_the_entry_form_shows_the_indicators_in_chinese_when_chinese_is_active(
    carol_client: Client, alpha: Evaluation
) -> None:
    carol_client.post(reverse("set_language"), {"language": "zh-hans"})

    page = html(carol_client.get(detail_url(alpha)))

    assert "实施方案落实情况" in indicator_row(page, "P1")
    assert "亿元" in indicator_row(page, "R1")


def test_the_entry_form_carries_the_version_it_was_loaded_at(
    carol_client: Client, alpha: Evaluation
) -> None:
    page = html(carol_client.get(detail_url(alpha)))

    assert input_value(page, "version") == str(alpha.version)
    assert 'type="hidden" name="version"' in page


def test_the_entry_form_offers_save_draft_and_submit(
    carol_client: Client, alpha: Evaluation
) -> None:
    page = html(carol_client.get(detail_url(alpha)))

    assert f'<form class="entry-form" method="post" action="{detail_url(alpha)}"' in page
    assert ">Save draft</button>" in page
    assert f'formaction="{action_url(alpha, "submit")}">Submit</button>' in page
    assert ">Approve</button>" not in page


def test_the_entry_form_shows_the_status_and_the_reviewer(
    carol_client: Client, alpha: Evaluation
) -> None:
    page = html(carol_client.get(detail_url(alpha)))

    assert '<span class="badge badge--draft">draft</span>' in page
    assert re.search(r"<dt>Reviewer</dt>\s*<dd>carol</dd>", page)
    assert "Evaluation of 2021, open for entry" in page


# --- saving a draft ----------------------------------------------------------------------


def test_carol_saves_a_draft_and_comes_back_to_the_form_with_a_message(
    carol_client: Client, alpha: Evaluation, carol: User
) -> None:
    response = carol_client.post(
        detail_url(alpha), entry(alpha, {"P1": "7", "R1": "88.25"}, {"P1": "plan half done"})
    )

    assert response.status_code == 302
    assert response["Location"] == detail_url(alpha)
    page_response = carol_client.get(response["Location"])
    assert "The draft is saved." in messages_of(page_response)
    assert value_of(alpha, "P1") == Decimal("7")
    assert value_of(alpha, "R1") == Decimal("88.25")
    assert Score.objects.get(evaluation=alpha, indicator__code="P1").note == "plan half done"
    assert fresh(alpha).status == EvaluationStatus.DRAFT
    page = html(page_response)
    assert input_value(page, f"value_{indicator(alpha, 'P1').pk}") == "7"
    assert input_value(page, f"value_{indicator(alpha, 'R1').pk}") == "88.25"
    assert input_value(page, f"note_{indicator(alpha, 'P1').pk}") == "plan half done"
    assert input_value(page, "version") == str(fresh(alpha).version)


def test_an_out_of_range_value_is_shown_next_to_its_indicator_and_nothing_is_saved(
    carol_client: Client, alpha: Evaluation
) -> None:
    response = carol_client.post(
        detail_url(alpha), entry(alpha, {"P1": "11", "P2": "5"}, {"P2": "typed note"})
    )

    assert response.status_code == 200
    page = html(response)
    p1_row = indicator_row(page, "P1")
    assert "11 is above the highest valid value, 10." in p1_row
    assert 'aria-invalid="true"' in p1_row
    assert "above the highest" not in indicator_row(page, "P2")
    # What carol typed stays in the form; nothing reached the database.
    assert input_value(page, f"value_{indicator(alpha, 'P1').pk}") == "11"
    assert input_value(page, f"value_{indicator(alpha, 'P2').pk}") == "5"
    assert input_value(page, f"note_{indicator(alpha, 'P2').pk}") == "typed note"
    assert not Score.objects.filter(evaluation=alpha).exists()
    assert fresh(alpha).version == alpha.version


@pytest.mark.parametrize(
    "typed, message",
    [
        ("abc", "Enter a number, such as 7 or 12.5."),
        ("NaN", "Enter a number, such as 7 or 12.5."),
        ("Infinity", "Enter a number, such as 7 or 12.5."),
        ("1,0", "Enter a number, such as 7 or 12.5."),
        ("１，０", "Enter a number, such as 7 or 12.5."),
        ("1e999", DOES_NOT_FIT),
        ("1e30", DOES_NOT_FIT),
        ("12345678901234567", DOES_NOT_FIT),
        ("9999999999999999.5", DOES_NOT_FIT),
        # The first value past the largest the column holds, 99999999999.9999.
        ("100000000000", DOES_NOT_FIT),
        ("1.23456", DOES_NOT_FIT),
        ("0.00001", DOES_NOT_FIT),
    ],
)
def test_a_value_that_is_not_a_storable_number_gets_a_clear_message_not_an_error_page(
    carol_client: Client, alpha: Evaluation, typed: str, message: str
) -> None:
    response = carol_client.post(detail_url(alpha), entry(alpha, {"R3": typed, "P1": "4"}))

    assert response.status_code == 200
    page = html(response)
    assert message in indicator_row(page, "R3")
    assert input_value(page, f"value_{indicator(alpha, 'R3').pk}") == typed
    assert input_value(page, f"value_{indicator(alpha, 'P1').pk}") == "4"
    assert not Score.objects.filter(evaluation=alpha).exists()


def test_a_log_scale_figure_of_zero_is_refused_with_the_services_message(
    carol_client: Client, alpha: Evaluation
) -> None:
    r1 = indicator(alpha, "R1")
    r1.min_value = None
    r1.save()

    response = carol_client.post(detail_url(alpha), entry(alpha, {"R1": "0"}))

    assert "log scale" in indicator_row(html(response), "R1")
    assert not Score.objects.filter(evaluation=alpha).exists()


def test_clearing_a_value_saves_the_draft_without_it(
    carol_client: Client, alpha: Evaluation
) -> None:
    carol_client.post(detail_url(alpha), entry(alpha, {"P1": "7"}))

    carol_client.post(detail_url(fresh(alpha)), entry(fresh(alpha), {"P1": ""}))

    assert value_of(alpha, "P1") is None


# --- submitting --------------------------------------------------------------------------


def test_submitting_an_incomplete_evaluation_saves_the_draft_and_names_what_is_missing(
    carol_client: Client, alpha: Evaluation
) -> None:
    values = {code: value for code, value in COMPLETE.items() if code not in {"S3", "R5"}}

    response = carol_client.post(action_url(alpha, "submit"), entry(alpha, values))

    assert response.status_code == 200
    evaluation = fresh(alpha)
    assert evaluation.status == EvaluationStatus.DRAFT
    assert value_of(alpha, "P1") == Decimal("8")
    page = html(response)
    assert "The draft is saved, but it cannot be submitted yet." in page
    assert "missing: S3, R5." in page
    assert "Enter a value before submitting." in indicator_row(page, "S3")
    assert "Enter a value before submitting." in indicator_row(page, "R5")
    assert "Enter a value before submitting." not in indicator_row(page, "P1")
    # The form now carries the version the save produced, so carol can simply go on.
    assert input_value(page, "version") == str(evaluation.version)


def test_an_invalid_value_stops_a_submission_before_anything_is_saved(
    carol_client: Client, alpha: Evaluation
) -> None:
    response = carol_client.post(action_url(alpha, "submit"), entry(alpha, COMPLETE | {"P1": "12"}))

    assert response.status_code == 200
    assert "above the highest valid value" in indicator_row(html(response), "P1")
    assert fresh(alpha).status == EvaluationStatus.DRAFT
    assert not Score.objects.filter(evaluation=alpha).exists()


def test_carol_submits_a_complete_evaluation_which_then_reads_without_inputs(
    carol_client: Client, alpha: Evaluation, carol: User
) -> None:
    response = carol_client.post(action_url(alpha, "submit"), entry(alpha, COMPLETE))

    assert response.status_code == 302
    assert response["Location"] == detail_url(alpha)
    evaluation = fresh(alpha)
    assert (evaluation.status, evaluation.submitted_by) == (EvaluationStatus.SUBMITTED, carol)
    assert value_of(alpha, "R1") == Decimal("120.5")
    page_response = carol_client.get(detail_url(alpha))
    assert "The evaluation is submitted for approval." in messages_of(page_response)
    page = html(page_response)
    assert "<input" not in page.split('<main id="main"')[1]
    assert "Save draft" not in page
    assert re.search(r"<dt>Submitted</dt>\s*<dd>\s*by carol", page)


# --- approving and returning -------------------------------------------------------------


def test_bob_sees_approve_and_return_on_a_submitted_evaluation(
    bob_client: Client, submitted: Evaluation
) -> None:
    page = html(bob_client.get(detail_url(submitted)))

    assert f'action="{action_url(submitted, "approve")}"' in page
    assert ">Approve</button>" in page
    assert f'action="{action_url(submitted, "return")}"' in page
    assert '<textarea name="reason"' in page
    assert ">Return</button>" in page
    # bob reads the scores but may not change them.
    assert "Save draft" not in page
    assert '<td class="numeric score-value">120.5</td>' in indicator_row(page, "R1")


def test_bob_approves_a_submitted_evaluation(
    bob_client: Client, submitted: Evaluation, bob: User
) -> None:
    response = bob_client.post(action_url(submitted, "approve"), {"version": submitted.version})

    assert response.status_code == 302
    evaluation = fresh(submitted)
    assert (evaluation.status, evaluation.approved_by) == (EvaluationStatus.APPROVED, bob)
    page_response = bob_client.get(response["Location"])
    assert "The evaluation is approved." in messages_of(page_response)
    page = html(page_response)
    assert re.search(r"<dt>Approved</dt>\s*<dd>\s*by bob", page)
    assert ">Approve</button>" not in page


def test_an_approval_from_a_page_that_is_out_of_date_is_refused(
    bob_client: Client, carol_client: Client, submitted: Evaluation
) -> None:
    loaded = submitted.version
    bob_client.post(action_url(submitted, "return"), {"version": loaded, "reason": "R1?"})
    returned = fresh(submitted)
    carol_client.post(action_url(returned, "submit"), entry(returned, COMPLETE | {"R1": "95"}))

    # bob approves from the page he loaded before carol changed R1.
    response = bob_client.post(action_url(submitted, "approve"), {"version": loaded})

    assert response.status_code == 302
    evaluation = fresh(submitted)
    assert (evaluation.status, evaluation.approved_by) == (EvaluationStatus.SUBMITTED, None)
    assert any(
        "Nothing was approved." in message
        for message in messages_of(bob_client.get(detail_url(submitted)))
    )


def test_bob_returns_an_evaluation_to_carol_with_a_reason(
    bob_client: Client, carol_client: Client, submitted: Evaluation
) -> None:
    response = bob_client.post(
        action_url(submitted, "return"),
        {"version": submitted.version, "reason": "R1 looks too high; check the customs data."},
    )

    assert response.status_code == 302
    evaluation = fresh(submitted)
    assert evaluation.status == EvaluationStatus.RETURNED
    assert evaluation.return_reason == "R1 looks too high; check the customs data."
    assert "The evaluation is returned to carol." in messages_of(
        bob_client.get(detail_url(submitted))
    )
    # Back with carol: she reads why and may edit again.
    page = html(carol_client.get(detail_url(submitted)))
    assert "R1 looks too high; check the customs data." in page
    assert '<span class="badge badge--returned">returned</span>' in page
    assert ">Save draft</button>" in page
    assert input_value(page, f"value_{indicator(submitted, 'R1').pk}") == "120.5"


@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_without_a_reason_is_refused_and_says_so_by_the_reason(
    bob_client: Client, submitted: Evaluation, reason: str
) -> None:
    response = bob_client.post(
        action_url(submitted, "return"), {"version": submitted.version, "reason": reason}
    )

    assert response.status_code == 200
    page = html(response)
    assert re.search(
        r'<ul class="errorlist" id="id_reason_error">\s*<li>Say why the evaluation is returned.',
        page,
    )
    evaluation = fresh(submitted)
    assert (evaluation.status, evaluation.return_reason) == (EvaluationStatus.SUBMITTED, "")


def test_a_returned_evaluation_is_corrected_and_submitted_again(
    bob_client: Client, carol_client: Client, submitted: Evaluation
) -> None:
    bob_client.post(
        action_url(submitted, "return"), {"version": submitted.version, "reason": "R1?"}
    )
    returned = fresh(submitted)

    response = carol_client.post(
        action_url(returned, "submit"), entry(returned, COMPLETE | {"R1": "95"})
    )

    assert response.status_code == 302
    evaluation = fresh(submitted)
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.return_reason == ""
    assert value_of(evaluation, "R1") == Decimal("95")


def test_an_approved_evaluation_is_read_only_and_refuses_every_write(
    bob_client: Client, carol_client: Client, alice: User, submitted: Evaluation
) -> None:
    bob_client.post(action_url(submitted, "approve"), {"version": submitted.version})
    approved = fresh(submitted)

    page = html(carol_client.get(detail_url(approved)))
    assert "This evaluation is approved: its scores can no longer change." in page
    assert "Save draft" not in page
    assert ">Approve</button>" not in page
    assert ">Return</button>" not in page

    for client in (carol_client, login(alice)):
        assert client.post(detail_url(approved), entry(approved, {"P1": "1"})).status_code == 403
        response = client.post(action_url(approved, "submit"), entry(approved, COMPLETE))
        assert response.status_code == 403
    response = bob_client.post(
        action_url(approved, "return"), {"version": approved.version, "reason": "again"}
    )
    assert response.status_code == 302
    evaluation = fresh(approved)
    assert (evaluation.status, evaluation.version) == (EvaluationStatus.APPROVED, approved.version)
    assert value_of(evaluation, "P1") == Decimal("8")


def test_a_published_cycles_evaluations_are_read_only(
    bob_client: Client, carol_client: Client, submitted: Evaluation, cycle: Cycle
) -> None:
    cycle.status = CycleStatus.PUBLISHED
    cycle.save()

    page = html(carol_client.get(detail_url(submitted)))
    assert "The cycle is published: its evaluations can no longer change." in page
    assert "<textarea" not in page
    bob_page = html(bob_client.get(detail_url(submitted)))
    assert ">Approve</button>" not in bob_page
    assert ">Return</button>" not in bob_page

    save = carol_client.post(detail_url(submitted), entry(submitted, {"P1": "1"}))
    approve = bob_client.post(action_url(submitted, "approve"), {"version": submitted.version})
    send_back = bob_client.post(
        action_url(submitted, "return"), {"version": submitted.version, "reason": "late"}
    )

    assert (save.status_code, approve.status_code, send_back.status_code) == (403, 403, 403)
    evaluation = fresh(submitted)
    assert (evaluation.status, evaluation.version) == (
        EvaluationStatus.SUBMITTED,
        submitted.version,
    )
    assert value_of(evaluation, "P1") == Decimal("8")


def test_a_draft_in_a_cycle_not_open_for_entry_is_read_only(
    carol_client: Client, alpha: Evaluation, cycle: Cycle
) -> None:
    cycle.status = CycleStatus.IN_REVIEW
    cycle.save()

    page = html(carol_client.get(detail_url(alpha)))

    assert "The cycle is not open for entry." in page
    assert carol_client.post(detail_url(alpha), entry(alpha, {"P1": "1"})).status_code == 403
    assert not Score.objects.filter(evaluation=alpha).exists()


# --- four eyes ---------------------------------------------------------------------------


def test_an_approver_cannot_approve_an_evaluation_they_entered(
    cycle: Cycle, alice: User, bob: User
) -> None:
    bob = with_roles(bob, REVIEWER)
    evaluation = assign(cycle.evaluations.get(zone__name_en="Bravo"), bob, alice)
    bob_client = login(bob)
    bob_client.post(action_url(evaluation, "submit"), entry(evaluation, COMPLETE))
    evaluation = fresh(evaluation)
    assert evaluation.submitted_by == bob

    page = html(bob_client.get(detail_url(evaluation)))
    assert ">Approve</button>" not in page
    assert "You entered or edited this evaluation, so another approver must approve it." in page

    response = bob_client.post(action_url(evaluation, "approve"), {"version": evaluation.version})

    assert response.status_code == 403
    after = fresh(evaluation)
    assert (after.status, after.approved_by, after.version) == (
        EvaluationStatus.SUBMITTED,
        None,
        evaluation.version,
    )


def test_another_approver_approves_what_bob_entered(cycle: Cycle, alice: User, bob: User) -> None:
    bob = with_roles(bob, REVIEWER)
    frank = make_user("frank", APPROVER)
    evaluation = assign(cycle.evaluations.get(zone__name_en="Bravo"), bob, alice)
    login(bob).post(action_url(evaluation, "submit"), entry(evaluation, COMPLETE))
    evaluation = fresh(evaluation)

    response = login(frank).post(action_url(evaluation, "approve"), {"version": evaluation.version})

    assert response.status_code == 302
    assert fresh(evaluation).approved_by == frank


# --- no lost update ----------------------------------------------------------------------


def test_the_second_of_two_saves_from_the_same_version_is_told_what_changed_and_loses_nothing(
    alpha: Evaluation, carol: User, alice: User
) -> None:
    first, second = login(alice), login(carol)
    first_page = html(first.get(detail_url(alpha)))
    second_page = html(second.get(detail_url(alpha)))
    loaded = input_value(first_page, "version")
    assert input_value(second_page, "version") == loaded
    p1 = indicator(alpha, "P1")

    saved = first.post(
        detail_url(alpha), entry(alpha, {"P1": "9"}, {"P1": "from the plan"}, int(loaded))
    )
    refused = second.post(
        detail_url(alpha), entry(alpha, {"P1": "3", "P2": "6"}, version=int(loaded))
    )

    assert saved.status_code == 302
    assert refused.status_code == 409
    page = html(refused)
    assert "Someone else saved this evaluation while you were editing it" in page
    change = re.search(r'<tr class="conflict__change">.*?</tr>', page, re.S)[0]
    assert "P1" in change
    assert '<td class="numeric">9</td>' in change
    assert "from the plan" in change
    assert "<td>alice</td>" in change
    # carol's typed values are still in the form, which now carries the current version.
    assert input_value(page, f"value_{p1.pk}") == "3"
    assert input_value(page, f"value_{indicator(alpha, 'P2').pk}") == "6"
    current = fresh(alpha)
    assert input_value(page, "version") == str(current.version)
    assert value_of(alpha, "P1") == Decimal("9")
    assert value_of(alpha, "P2") is None


def test_saving_again_after_a_conflict_is_a_deliberate_overwrite(
    alpha: Evaluation, carol: User, alice: User
) -> None:
    first, second = login(alice), login(carol)
    loaded = alpha.version
    first.post(detail_url(alpha), entry(alpha, {"P1": "9"}, version=loaded))
    refused = second.post(detail_url(alpha), entry(alpha, {"P1": "3"}, version=loaded))
    version_shown = int(input_value(html(refused), "version"))

    response = second.post(detail_url(alpha), entry(alpha, {"P1": "3"}, version=version_shown))

    assert response.status_code == 302
    assert value_of(alpha, "P1") == Decimal("3")


# --- history -----------------------------------------------------------------------------


def test_the_page_shows_who_changed_which_score_and_when(
    carol_client: Client, bob_client: Client, alpha: Evaluation, alice: User
) -> None:
    carol_client.post(detail_url(alpha), entry(alpha, {"P1": "4"}))
    login(alice).post(detail_url(alpha), entry(fresh(alpha), {"P1": "6", "R4": "12"}))

    page = html(bob_client.get(detail_url(alpha)))

    changes = re.findall(
        r'<tr class="score-change">\s*<td class="nowrap"><time datetime="[^"]+">[^<]+</time></td>'
        r'\s*<td>(\w+)</td>\s*<td><span class="indicator-code">(\w+)</span>[^<]*</td>'
        r'\s*<td class="numeric">([^<]*)</td>',
        page,
    )
    assert changes == [("alice", "R4", "12"), ("alice", "P1", "6"), ("carol", "P1", "4")]


def test_the_page_shows_the_evaluations_status_changes_with_who_and_why(
    bob_client: Client, carol_client: Client, submitted: Evaluation
) -> None:
    bob_client.post(
        action_url(submitted, "return"), {"version": submitted.version, "reason": "R1?"}
    )

    page = html(carol_client.get(detail_url(submitted)))

    timeline = re.findall(
        r'<span class="badge badge--(\w+)">\w+</span>\s*(?:<span class="timeline__reason">'
        r"([^<]*)</span>)?\s*</span>\s*<span class=\"timeline__who\">\s*(?:by (\w+))?",
        page,
    )
    assert timeline == [
        ("draft", "", ""),
        ("submitted", "", "carol"),
        ("returned", "R1?", "bob"),
    ]


# --- bounded queries ---------------------------------------------------------------------


@pytest.mark.parametrize("saves", [1, 40])
def test_the_entry_page_reads_the_same_number_of_queries_however_long_the_history(
    alpha: Evaluation, carol: User, saves: int, django_assert_max_num_queries
) -> None:
    client = login(carol)
    for n in range(saves):
        values = {code: str(n % 10) for code in COMPLETE if code.startswith(("P", "S", "T"))}
        client.post(detail_url(alpha), entry(fresh(alpha), values | {"R1": str(n + 1)}))
    assert Score.history.filter(evaluation_id=alpha.pk).count() >= saves * 2

    # session, user, the evaluation with its zone and people, permissions (2), indicators, scores,
    # the score history with who, the status history with who
    with django_assert_max_num_queries(10):
        response = client.get(detail_url(alpha))

    assert response.status_code == 200
    assert len(re.findall(r'<tr class="indicator', html(response))) == 16


def test_the_entry_page_reads_a_bounded_number_of_queries_for_an_approver(
    submitted: Evaluation, bob: User, django_assert_max_num_queries
) -> None:
    client = login(bob)
    # ... and who entered the scores, for the four-eyes check; the navigation's cycles with
    # their decisions waiting, the unread notifications
    with django_assert_max_num_queries(12):
        response = client.get(detail_url(submitted))

    assert ">Approve</button>" in html(response)


# --- the work queue ----------------------------------------------------------------------


def queue_names(response) -> list[str]:
    body = html(response).split("<tbody>", 1)[-1]
    return re.findall(r'<(?:a|span) class="zone-name"[^>]*>([^<]*)</(?:a|span)>', body)


def queue_row(page: str, zone: str) -> str:
    """The queue's row of ``zone`` (after its selection box, where the page offers one)."""
    body = page.split("<tbody>", 1)[-1]
    return re.search(rf"<tr>(?:(?!</tr>).)*?{zone}.*?</tr>", body, re.S)[0]


@pytest.fixture
def worked(cycle: Cycle, alice: User, carol: User, erin: User, submitted: Evaluation):
    """Alpha submitted by carol, Bravo assigned to erin, Charlie unassigned."""
    assign(cycle.evaluations.get(zone__name_en="Bravo"), erin, alice)
    return cycle


def test_the_queue_counts_the_evaluations_by_status(bob_client: Client, worked: Cycle) -> None:
    page = html(bob_client.get(queue_url()))

    figures = re.findall(
        r'<span class="figure__number">(\d+)</span>\s*<span class="figure__label">([^<]+)</span>',
        page,
    )
    assert {label: int(number) for number, label in figures} == {
        "evaluations": 3,
        "draft": 2,
        "reported by the zone": 0,
        "forwarded by the province": 0,
        "submitted": 1,
        "returned": 0,
        "approved": 0,
    }


def test_the_queue_lists_each_evaluation_with_zone_province_batch_reviewer_status_and_change(
    bob_client: Client, worked: Cycle
) -> None:
    response = bob_client.get(queue_url())

    assert queue_names(response) == ["Alpha", "Bravo", "Charlie"]
    row = queue_row(html(response), "Alpha")
    alpha = worked.evaluations.get(zone__name_en="Alpha")
    assert f'href="{detail_url(alpha)}"' in row
    assert f"<td>{alpha.zone.province.name}</td>" in row
    assert f'{alpha.zone.batch.number} <span class="muted">(2019)</span>' in row
    assert "<td>carol</td>" in row
    assert '<span class="badge badge--submitted">submitted</span>' in row
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', row)
    charlie = queue_row(html(response), "Charlie")
    assert "not assigned" in charlie


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"status": "submitted"}, ["Alpha"]),
        ({"status": "draft"}, ["Bravo", "Charlie"]),
        ({"reviewer": "null"}, ["Charlie"]),
        ({"region": Region.EAST}, ["Alpha", "Bravo", "Charlie"]),
        ({"region": Region.WEST}, []),
    ],
)
def test_the_queue_filters_by_status_reviewer_and_region(
    bob_client: Client, worked: Cycle, query: dict, expected: list[str]
) -> None:
    assert queue_names(bob_client.get(queue_url(), query)) == expected


def test_the_queue_filters_by_reviewer(bob_client: Client, worked: Cycle, erin: User) -> None:
    assert queue_names(bob_client.get(queue_url(), {"reviewer": erin.pk})) == ["Bravo"]


def test_the_queue_filters_by_province_and_batch(bob_client: Client, worked: Cycle) -> None:
    other_province = make_province(region=Region.WEST)
    other_batch = make_batch(number=2, approved_on=Cycle.default_cutoff(2021))
    make_zone(name_en="Echo", province=other_province, batch=other_batch)
    later = cycle_open(year=2022)
    url = queue_url(2022)

    assert queue_names(bob_client.get(url, {"province": other_province.pk})) == ["Echo"]
    assert queue_names(bob_client.get(url, {"batch": other_batch.pk})) == ["Echo"]
    assert queue_names(bob_client.get(url, {"region": Region.WEST})) == ["Echo"]
    assert later.evaluations.count() == 5


def test_mine_lists_only_the_evaluations_assigned_to_me(
    worked: Cycle, erin: User, carol: User
) -> None:
    assert queue_names(login(erin).get(queue_url(), {"mine": "on"})) == ["Bravo"]
    assert queue_names(login(carol).get(queue_url(), {"mine": "on"})) == ["Alpha"]
    page = html(login(erin).get(queue_url(), {"mine": "on"}))
    assert re.search(r'<input type="checkbox" name="mine" id="id_mine" checked>', page)


def test_a_reviewer_sees_the_whole_queue_but_links_only_to_their_own_evaluations(
    worked: Cycle, erin: User
) -> None:
    response = login(erin).get(queue_url())

    assert queue_names(response) == ["Alpha", "Bravo", "Charlie"]
    page = html(response)
    bravo = worked.evaluations.get(zone__name_en="Bravo")
    alpha = worked.evaluations.get(zone__name_en="Alpha")
    assert f'href="{detail_url(bravo)}"' in page
    assert f'href="{detail_url(alpha)}"' not in page


def test_an_unreadable_filter_is_shown_as_an_error_and_lists_nothing(
    bob_client: Client, worked: Cycle
) -> None:
    response = bob_client.get(queue_url(), {"status": "sleeping"})

    assert response.status_code == 200
    assert queue_names(response) == []
    assert "Correct the filters above to see evaluations." in html(response)


def test_the_queue_of_an_unknown_year_is_not_found(bob_client: Client, cycle: Cycle) -> None:
    assert bob_client.get(queue_url(1999)).status_code == 404


@pytest.fixture
def big_cycle(framework, alice: User, carol: User, request) -> Cycle:
    """A cycle of 2021 with as many evaluations as the test asks for, half of them carol's."""
    count = request.param
    province = make_province()
    batch = make_batch(approved_on=Cycle.default_cutoff(2021))
    for n in range(count):
        make_zone(name_en=f"Zone {n:03d}", province=province, batch=batch)
    cycle = cycle_open(year=2021)
    half = list(cycle.evaluations.order_by("pk").values_list("pk", flat=True)[: count // 2])
    evaluation_assign(evaluations=cycle.evaluations.filter(pk__in=half), reviewer=carol, by=alice)
    return cycle


@pytest.mark.parametrize("big_cycle", [5, 150], indirect=True)
def test_the_queue_reads_the_same_number_of_queries_however_many_evaluations(
    big_cycle: Cycle, carol: User, django_assert_max_num_queries
) -> None:
    client = login(carol)

    # session, user, permissions (2), the cycle, one page of evaluations with their zone, province,
    # batch, reviewer and last change, their count, the counts by status, and the choices
    # of reviewer, province and batch
    with django_assert_max_num_queries(12):
        response = client.get(queue_url(), {"region": Region.EAST})

    assert len(queue_names(response)) == min(big_cycle.evaluations.count(), 50)


@pytest.mark.parametrize("big_cycle", [150], indirect=True)
def test_the_queues_pages_keep_the_filters(big_cycle: Cycle, carol: User) -> None:
    response = login(carol).get(queue_url(), {"mine": "on", "status": "draft", "page": "2"})

    assert "Page 2 of 2" in html(response)
    links = [
        parse_qs(urlsplit(unescape(href)).query)
        for href in re.findall(r'href="(\?[^"]*)"', html(response))
    ]
    assert {"mine": ["on"], "status": ["draft"], "page": ["1"]} in links
    assert len(queue_names(response)) == 25


# --- the navigation and the current cycle ------------------------------------------------


def test_the_navigation_offers_the_evaluations_to_those_who_work_on_them(
    cycle: Cycle, carol: User, bob: User, alice: User, dave: User
) -> None:
    link = f'href="{reverse("evaluations:current_cycle_evaluations")}"'
    for user in (carol, bob, alice):
        assert link in html(login(user).get(reverse("registry:zone_list"))), user
    assert link not in html(login(dave).get(reverse("registry:zone_list")))


def test_the_navigation_leads_to_the_current_cycles_queue(bob_client: Client, cycle: Cycle) -> None:
    cycle_open(year=2022)

    response = bob_client.get(reverse("evaluations:current_cycle_evaluations"))

    assert response["Location"] == queue_url(2022)


def test_without_any_cycle_the_navigation_leads_home_with_a_word_why(
    bob_client: Client, db
) -> None:
    response = bob_client.get(reverse("evaluations:current_cycle_evaluations"), follow=True)

    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "No evaluation cycle has been opened yet." in messages_of(response)


# --- home --------------------------------------------------------------------------------


def test_home_shows_the_current_cycles_progress(bob_client: Client, worked: Cycle) -> None:
    response = bob_client.get(reverse("home"))

    page = html(response)
    assert '<h2 id="cycle-heading">Evaluation of 2021</h2>' in page
    assert '<progress id="cycle-progress-bar" max="3" value="0">0%</progress>' in page
    assert "0 of 3 evaluations approved (0%)" in page
    assert f'href="{queue_url()}?status=submitted"' in page


def test_home_progress_counts_the_approved_evaluations(
    bob_client: Client, submitted: Evaluation
) -> None:
    bob_client.post(action_url(submitted, "approve"), {"version": submitted.version})

    page = html(bob_client.get(reverse("home")))

    assert '<progress id="cycle-progress-bar" max="3" value="1">33%</progress>' in page
    assert "1 of 3 evaluations approved (33%)" in page


def waiting_list(page: str, name: str) -> str:
    """The home page's list of what waits, by its name (to_enter, returned, to_approve, ...)."""
    return page.split(f'id="waiting-{name}"')[1].split("</section>")[0]


def linked_zones(fragment: str) -> list[str]:
    return re.findall(r'class="zone-name" href="([^"]+)"', fragment)


def test_home_leads_a_reviewer_to_their_drafts_and_what_was_returned_to_them(
    cycle: Cycle, alice: User, carol: User, bob_client: Client
) -> None:
    alpha = assign(cycle.evaluations.get(zone__name_en="Alpha"), carol, alice)
    bravo = assign(cycle.evaluations.get(zone__name_en="Bravo"), carol, alice)
    charlie = assign(cycle.evaluations.get(zone__name_en="Charlie"), carol, alice)
    carol_client = login(carol)
    carol_client.post(action_url(bravo, "submit"), entry(bravo, COMPLETE))
    carol_client.post(action_url(charlie, "submit"), entry(charlie, COMPLETE))
    bob_client.post(
        action_url(charlie, "return"), {"version": fresh(charlie).version, "reason": "R2?"}
    )

    page = html(carol_client.get(reverse("home")))

    # What waits comes before the cycle's figures.
    assert page.index("Waiting for you") < page.index('id="cycle-heading"')
    to_enter = waiting_list(page, "to_enter")
    assert "Assigned to you to enter" in to_enter
    assert linked_zones(to_enter) == [detail_url(alpha)]
    assert f'href="{queue_url()}?mine=on&amp;status=draft"' in to_enter
    returned = waiting_list(page, "returned")
    assert linked_zones(returned) == [detail_url(charlie)]
    assert f'href="{queue_url()}?mine=on&amp;status=returned"' in returned
    assert 'id="waiting-to_approve"' not in page
    assert 'id="waiting-not_assigned"' not in page


def test_home_leads_an_approver_to_what_they_may_approve_and_not_their_own(
    cycle: Cycle, alice: User, bob: User, carol: User
) -> None:
    bob = with_roles(bob, REVIEWER)
    alpha = assign(cycle.evaluations.get(zone__name_en="Alpha"), carol, alice)
    bravo = assign(cycle.evaluations.get(zone__name_en="Bravo"), bob, alice)
    login(carol).post(action_url(alpha, "submit"), entry(alpha, COMPLETE))
    login(bob).post(action_url(bravo, "submit"), entry(bravo, COMPLETE))

    page = html(login(bob).get(reverse("home")))

    to_approve = waiting_list(page, "to_approve")
    assert linked_zones(to_approve) == [detail_url(alpha)]
    assert "submitted by carol" in to_approve
    assert '<span class="waiting-list__count">1</span>' in to_approve
    assert f'href="{queue_url()}?status=submitted"' in to_approve


def test_home_leads_an_administrator_to_the_evaluations_without_a_reviewer(
    cycle: Cycle, alice: User, carol: User
) -> None:
    assign(cycle.evaluations.get(zone__name_en="Alpha"), carol, alice)

    page = html(login(alice).get(reverse("home")))

    not_assigned = waiting_list(page, "not_assigned")
    assert re.findall(r'class="zone-name"[^>]*>([^<]+)<', not_assigned) == [
        "Bravo",
        "Charlie",
    ]
    assert f'href="{queue_url()}?reviewer=null"' in not_assigned
    assert "ready to publish" not in page


def test_home_tells_an_administrator_when_the_cycle_is_ready_to_publish(
    cycle: Cycle, alice: User, bob: User
) -> None:
    cycle.evaluations.update(status=EvaluationStatus.APPROVED)

    page = html(login(alice).get(reverse("home")))

    assert "Every evaluation of 2021 is approved: the cycle is ready to publish." in page
    assert f'href="{reverse("admin:evaluations_cycle_changelist")}"' in page
    # An Approver does not publish: the page does not offer it to them.
    assert "ready to publish" not in html(login(bob).get(reverse("home")))


def test_home_shows_a_viewer_only_the_register(cycle: Cycle, dave: User) -> None:
    page = html(login(dave).get(reverse("home")))

    assert "cycle-heading" not in page
    assert "Your queue" not in page
    assert "<progress" not in page
    assert "zones in the register" in page


@pytest.mark.parametrize("big_cycle", [5, 150], indirect=True)
def test_home_shows_the_first_few_of_each_list_in_the_same_number_of_queries_however_long(
    big_cycle: Cycle, carol: User, bob: User, django_assert_max_num_queries
) -> None:
    both = with_roles(make_user("grace", REVIEWER), APPROVER)
    evaluation_assign(
        evaluations=big_cycle.evaluations.filter(reviewer__isnull=True),
        reviewer=both,
        by=User.objects.get(username="alice"),
    )
    # carol's half waits for approval (set directly: only the lengths matter here)
    big_cycle.evaluations.filter(reviewer=carol).update(
        status=EvaluationStatus.SUBMITTED, submitted_by=carol
    )
    client = login(both)

    # session, user, permissions (2), zones per status, batches, the latest published cycle,
    # the current cycle, its counts by status, one query for each list (to enter, returned,
    # to approve: the first few and the count together), the navigation's cycles, the unread
    # notifications
    with django_assert_max_num_queries(14):
        response = client.get(reverse("home"))

    page = html(response)
    to_enter = big_cycle.evaluations.filter(reviewer=both).count()
    to_approve = big_cycle.evaluations.filter(reviewer=carol).count()
    assert page.count('class="queue-list__item"') == min(to_enter, 5) + min(to_approve, 5)
    assert f'<span class="waiting-list__count">{to_enter}</span>' in waiting_list(page, "to_enter")
    assert f'<span class="waiting-list__count">{to_approve}</span>' in waiting_list(
        page, "to_approve"
    )
    if to_approve > 5:
        assert f"All {to_approve}" in waiting_list(page, "to_approve")


# --- every page --------------------------------------------------------------------------


def test_evaluation_pages_carry_no_inline_script_or_style_and_no_other_origin(
    bob_client: Client, submitted: Evaluation
) -> None:
    for url in [detail_url(submitted), queue_url(), reverse("home")]:
        page = html(bob_client.get(url))

        # A script is served from this origin's static files, never written into the page.
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        assert len(scripts) == page.count("<script"), url
        for attributes, body in scripts:
            assert re.search(r'src="/static/js/[^"]+\.js"', attributes), (url, attributes)
            assert not body.strip(), url
        assert "<style" not in page, url
        assert " style=" not in page, url
        assert not re.search(r" on[a-z]+=", page), url
        for reference in re.findall(r'(?:src|href|action|formaction)="([^"]*)"', page):
            assert not re.match(r"(?i)^(https?:)?//", reference), (url, reference)
