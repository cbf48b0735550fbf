"""The reporting chain over HTTP: a whole year from the zone's report to the rankings, the
evidence downloads, refusals out of scope, and the pages' query counts."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.models import Evaluation, EvaluationStatus, Evidence, Score
from evaluations.services import evaluation_assign, rankings_compute
from registry.models import ProvinceReviewer, ZoneReporter
from tests.evidence_files import HTML, PDF, XLSX
from tests.factories import PASSWORD, make_user, make_zone
from zonetracker.permissions import PROVINCIAL_REVIEWER, ZONE_REPORTER


def client_of(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def chain(cycle, zones, alice, bob, carol):
    rita = make_user("rita", ZONE_REPORTER)
    oscar = make_user("oscar", ZONE_REPORTER)
    paul = make_user("paul", PROVINCIAL_REVIEWER)
    ZoneReporter.objects.create(user=rita, zone=zones[0])
    ZoneReporter.objects.create(user=oscar, zone=zones[1])
    ProvinceReviewer.objects.create(user=paul, province=zones[0].province)
    evaluation_assign(evaluations=cycle.evaluations.all(), reviewer=carol, by=alice)
    return {"rita": rita, "oscar": oscar, "paul": paul}


def alpha(cycle) -> Evaluation:
    return Evaluation.objects.get(cycle=cycle, zone__name_en="Alpha")


def report_data(cycle, evaluation, value="5", **extra) -> dict:
    data = {"version": evaluation.version, **extra}
    for indicator in cycle.indicators.all():
        data[f"value_{indicator.pk}"] = value
        data[f"note_{indicator.pk}"] = ""
    return data


def upload(client, evaluation, indicator, name, content, replaces=None):
    data = {"indicator": indicator.pk, "file": SimpleUploadedFile(name, content)}
    if replaces is not None:
        data["replaces"] = replaces.pk
    return client.post(f"/reports/{evaluation.pk}/evidence/", data, follow=True)


def test_a_whole_year_through_the_chain_ends_in_rankings_of_the_verified_value(
    cycle, chain, carol, bob
):
    cycle.indicators.filter(code="R1").update(requires_evidence=True)
    rita, paul = client_of(chain["rita"]), client_of(chain["paul"])
    r1 = cycle.indicators.get(code="R1")
    for zone_name in ["Bravo", "Charlie"]:
        other = cycle.evaluations.get(zone__name_en=zone_name)
        for indicator in cycle.indicators.all():
            Score.objects.create(evaluation=other, indicator=indicator, value=Decimal(5))

    # The reporter's first try lacks the evidence R1 requires: saved, not reported.
    evaluation = alpha(cycle)
    response = rita.post(
        f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1")
    )
    assert response.status_code == 400
    assert "These indicators need an evidence file: R1." in response.content.decode()
    assert alpha(cycle).status == EvaluationStatus.DRAFT

    response = upload(rita, evaluation, r1, "customs.pdf", PDF)
    assert "The evidence file is kept." in response.content.decode()
    evaluation = alpha(cycle)
    response = rita.post(
        f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1")
    )
    assert response.status_code == 302
    assert alpha(cycle).status == EvaluationStatus.REPORTED

    # The province returns it; the reason comes first on the zone's page.
    evaluation = alpha(cycle)
    paul.post(
        f"/reports/{evaluation.pk}/return/",
        {"version": evaluation.version, "reason": "R1 must be in 100 million yuan."},
    )
    page = rita.get(f"/reports/{evaluation.pk}/").content.decode()
    assert page.index("R1 must be in 100 million yuan.") < page.index("<h1")

    # The zone fixes it, the province forwards it.
    evaluation = alpha(cycle)
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, "6", send="1"))
    evaluation = alpha(cycle)
    assert evaluation.status == EvaluationStatus.REPORTED
    assert (
        paul.post(f"/reports/{evaluation.pk}/forward/", {"version": evaluation.version}).status_code
        == 302
    )
    assert alpha(cycle).status == EvaluationStatus.FORWARDED

    # The Ministry verifies P1 to another value, with a reason.
    evaluation = alpha(cycle)
    data = {"version": evaluation.version}
    for indicator in cycle.indicators.all():
        data[f"accepted_{indicator.pk}"] = "10" if indicator.code == "P1" else "6"
        data[f"reason_{indicator.pk}"] = "Fully done." if indicator.code == "P1" else ""
    response = client_of(carol).post(f"/reports/{evaluation.pk}/verify/", data)
    assert response.status_code == 302
    evaluation = alpha(cycle)
    assert evaluation.status == EvaluationStatus.SUBMITTED
    p1 = Score.objects.get(evaluation=evaluation, indicator__code="P1")
    assert (p1.reported_value, p1.value) == (Decimal(6), Decimal(10))

    # An Approver approves; the rankings use the verified value.
    response = client_of(bob).post(
        f"/evaluations/{evaluation.pk}/approve/", {"version": evaluation.version}
    )
    assert response.status_code == 302
    evaluation = alpha(cycle)
    assert evaluation.status == EvaluationStatus.APPROVED
    # What compute_rankings (and each change, once committed) computes.
    rankings_compute(cycle=cycle)
    ranks = dict(cycle.evaluations.values_list("zone__name_en", "rank"))
    assert ranks["Alpha"] == 1 and ranks["Bravo"] == 2


def test_a_verification_that_differs_without_a_reason_names_the_figure(cycle, chain, carol):
    evaluation = alpha(cycle)
    rita = client_of(chain["rita"])
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1"))
    evaluation = alpha(cycle)
    client_of(chain["paul"]).post(
        f"/reports/{evaluation.pk}/forward/", {"version": evaluation.version}
    )
    evaluation = alpha(cycle)
    data = {"version": evaluation.version}
    for indicator in cycle.indicators.all():
        data[f"accepted_{indicator.pk}"] = "4" if indicator.code == "P2" else "5"
        data[f"reason_{indicator.pk}"] = ""
    response = client_of(carol).post(f"/reports/{evaluation.pk}/verify/", data)
    assert response.status_code == 400
    assert "differs from the reported one" in response.content.decode()
    assert alpha(cycle).status == EvaluationStatus.FORWARDED
    assert not Score.objects.filter(evaluation=evaluation).exclude(value=Decimal(5)).exists()


def test_evidence_downloads_as_an_attachment_never_sniffed_to_readers_of_the_report(
    cycle, chain, carol, dave
):
    evaluation = alpha(cycle)
    upload(client_of(chain["rita"]), evaluation, cycle.indicators.get(code="R1"), "f.xlsx", XLSX)
    evidence = Evidence.objects.get()
    for reader in (chain["rita"], chain["paul"], carol):
        response = client_of(reader).get(f"/evidence/{evidence.pk}/")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert b"".join(response.streaming_content) == XLSX
    for outsider in (chain["oscar"], dave):
        assert client_of(outsider).get(f"/evidence/{evidence.pk}/").status_code == 403


def test_a_file_lying_about_its_type_is_refused_with_a_message_and_nothing_kept(cycle, chain):
    evaluation = alpha(cycle)
    response = upload(
        client_of(chain["rita"]), evaluation, cycle.indicators.get(code="R1"), "a.csv", HTML
    )
    assert "The file was not kept" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_replaced_file_stays_listed_and_downloadable(cycle, chain):
    evaluation = alpha(cycle)
    rita = client_of(chain["rita"])
    r1 = cycle.indicators.get(code="R1")
    upload(rita, evaluation, r1, "first.pdf", PDF)
    first = Evidence.objects.get()
    page = upload(rita, evaluation, r1, "second.pdf", PDF, replaces=first).content.decode()
    assert "first.pdf" in page and "second.pdf" in page
    assert rita.get(f"/evidence/{first.pk}/").status_code == 200


def test_every_scoped_write_outside_the_scope_is_refused_and_changes_nothing(cycle, chain):
    evaluation = alpha(cycle)
    oscar = client_of(chain["oscar"])
    r1 = cycle.indicators.get(code="R1")
    assert oscar.get(f"/reports/{evaluation.pk}/").status_code == 403
    assert (
        oscar.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation)).status_code
        == 403
    )
    assert (
        oscar.post(
            f"/reports/{evaluation.pk}/evidence/",
            {"indicator": r1.pk, "file": SimpleUploadedFile("a.pdf", PDF)},
        ).status_code
        == 403
    )
    assert not Score.objects.exists() and not Evidence.objects.exists()
    assert alpha(cycle).version == evaluation.version


def test_the_reports_page_lists_only_the_zones_in_scope_with_completeness(cycle, chain):
    page = client_of(chain["rita"]).get(f"/cycles/{cycle.year}/reports/").content.decode()
    assert "Alpha" in page and "Bravo" not in page
    page = client_of(chain["paul"]).get(f"/cycles/{cycle.year}/reports/").content.decode()
    assert "Alpha" in page and "Bravo" in page and "Charlie" in page
    assert re.search(r"<td class=\"numeric\">3</td>", page)


def test_the_report_pages_read_as_many_queries_for_many_zones_as_for_few(
    cycle, chain, django_assert_max_num_queries
):
    paul = client_of(chain["paul"])
    evaluation = alpha(cycle)
    urls = [f"/cycles/{cycle.year}/reports/", f"/reports/{evaluation.pk}/"]

    def counts() -> dict[str, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        result = {}
        for url in urls:
            with CaptureQueriesContext(connection) as captured:
                assert paul.get(url).status_code == 200
            result[url] = len(captured.captured_queries)
        return result

    small = counts()
    province = alpha(cycle).zone.province
    from evaluations.models import Evaluation as Model

    for n in range(20):
        zone = make_zone(province=province, batch=alpha(cycle).zone.batch, name_en=f"More {n}")
        Model.objects.create(cycle=cycle, zone=zone)
    upload(client_of(chain["rita"]), evaluation, cycle.indicators.get(code="R1"), "a.pdf", PDF)
    for url, budget in small.items():
        with django_assert_max_num_queries(budget, info=url):
            assert paul.get(url).status_code == 200
        assert budget <= 20, (url, budget)


def test_the_report_page_reads_in_chinese(cycle, chain):
    evaluation = alpha(cycle)
    client = client_of(chain["rita"])
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/reports/{evaluation.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "上报" in page.content.decode()


def test_the_deadlines_make_unreported_zones_late(cycle, chain):
    cycle.entry_deadline = datetime.date(2000, 1, 1)
    cycle.approval_deadline = datetime.date(2000, 1, 2)
    cycle.save()
    page = client_of(chain["paul"]).get(f"/cycles/{cycle.year}/reports/").content.decode()
    assert "late" in page


def test_reviewers_see_a_figure_identical_to_last_year_flagged_without_it_blocking(
    cycle, chain, zones
):
    from evaluations.models import Cycle

    earlier = Cycle.objects.create(year=2020, cutoff=datetime.date(2019, 12, 31))
    last_year = Evaluation.objects.create(cycle=earlier, zone=zones[0])
    Score.objects.create(
        evaluation=last_year, indicator=cycle.indicators.get(code="R3"), value=Decimal(5)
    )
    evaluation = alpha(cycle)
    rita = client_of(chain["rita"])
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1"))
    assert alpha(cycle).status == EvaluationStatus.REPORTED
    paul = client_of(chain["paul"])
    page = paul.get(f"/reports/{evaluation.pk}/").content.decode()
    assert page.count("The same figure as last year.") == 1
    assert "last year: 5" in page
    listing = paul.get(f"/cycles/{cycle.year}/reports/").content.decode()
    assert "1 figure flag across these reports" in listing


def entry_data(cycle, evaluation, value="4") -> dict:
    data = {"version": evaluation.version}
    for indicator in cycle.indicators.all():
        data[f"value_{indicator.pk}"] = value
        data[f"note_{indicator.pk}"] = ""
    return data


@pytest.mark.parametrize("returned_by_the_province", [False, True])
def test_the_ministrys_entry_form_sends_a_report_from_the_chain_to_its_verification(
    cycle, chain, carol, returned_by_the_province
):
    evaluation = alpha(cycle)
    rita = client_of(chain["rita"])
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1"))
    if returned_by_the_province:
        evaluation = alpha(cycle)
        client_of(chain["paul"]).post(
            f"/reports/{evaluation.pk}/return/",
            {"version": evaluation.version, "reason": "Sources missing."},
        )
    else:
        # Still the zone's draft: its figures are saved but not yet sent.
        Evaluation.objects.filter(pk=evaluation.pk).update(
            status=EvaluationStatus.DRAFT, reported_at=None
        )
    evaluation = alpha(cycle)
    assert evaluation.status in {EvaluationStatus.DRAFT, EvaluationStatus.RETURNED}
    ministry = client_of(carol)
    page = ministry.get(f"/evaluations/{evaluation.pk}/").content.decode()
    assert "entry-form" not in page
    assert "the Ministry verifies them on the report" in page
    assert f'href="/reports/{evaluation.pk}/"' in page

    before = sorted(
        Score.objects.values_list("pk", "value", "reported_value", "verification_reason")
    )
    for url in [f"/evaluations/{evaluation.pk}/", f"/evaluations/{evaluation.pk}/submit/"]:
        response = ministry.post(url, entry_data(cycle, evaluation))
        assert response.status_code == 302
        assert response["Location"] == f"/reports/{evaluation.pk}/"
    after = sorted(
        Score.objects.values_list("pk", "value", "reported_value", "verification_reason")
    )
    assert after == before
    assert alpha(cycle).status == evaluation.status
    assert alpha(cycle).version == evaluation.version


def test_the_ministrys_entry_form_still_enters_an_evaluation_no_zone_reported(cycle, chain, carol):
    evaluation = alpha(cycle)
    ministry = client_of(carol)
    assert "entry-form" in ministry.get(f"/evaluations/{evaluation.pk}/").content.decode()
    response = ministry.post(f"/evaluations/{evaluation.pk}/", entry_data(cycle, evaluation))
    assert response.status_code == 302
    assert set(Score.objects.filter(evaluation=evaluation).values_list("value", flat=True)) == {
        Decimal(4)
    }


def test_a_flagged_figure_carries_its_own_reason_shown_beside_the_flag(cycle, chain, zones):
    from evaluations.models import Cycle

    earlier = Cycle.objects.create(year=2020, cutoff=datetime.date(2019, 12, 31))
    last_year = Evaluation.objects.create(cycle=earlier, zone=zones[0])
    r3 = cycle.indicators.get(code="R3")
    Score.objects.create(evaluation=last_year, indicator=r3, value=Decimal(5))
    evaluation = alpha(cycle)
    rita = client_of(chain["rita"])
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation))

    # The reporter is asked for a reason beside the flagged figure only.
    page = rita.get(f"/reports/{evaluation.pk}/").content.decode()
    assert f'name="flag_reason_{r3.pk}"' in page
    assert page.count('name="flag_reason_') == 1

    # Sent without a reason: nothing blocks, and the summaries count it.
    evaluation = alpha(cycle)
    rita.post(f"/reports/{evaluation.pk}/save/", report_data(cycle, evaluation, send="1"))
    assert alpha(cycle).status == EvaluationStatus.REPORTED
    paul = client_of(chain["paul"])
    page = " ".join(paul.get(f"/reports/{evaluation.pk}/").content.decode().split())
    assert "No reason given for this flagged figure" in page
    assert '<dd class="flags-without-reason">1 flagged figure</dd>' in page
    listing = " ".join(paul.get(f"/cycles/{cycle.year}/reports/").content.decode().split())
    assert "Flagged without reason: 1 figure." in listing

    # Returned, the reporter explains the flag; the note stays the zone's general note.
    evaluation = alpha(cycle)
    paul.post(
        f"/reports/{evaluation.pk}/return/",
        {"version": evaluation.version, "reason": "Explain R3."},
    )
    evaluation = alpha(cycle)
    data = report_data(cycle, evaluation, send="1")
    data[f"flag_reason_{r3.pk}"] = "The park was full in both years."
    rita.post(f"/reports/{evaluation.pk}/save/", data)
    score = Score.objects.get(evaluation=evaluation, indicator=r3)
    assert score.flag_reason == "The park was full in both years." and score.note == ""
    assert [h.flag_reason for h in score.history.order_by("history_date")][-2:] == [
        "",
        "The park was full in both years.",
    ]
    page = " ".join(paul.get(f"/reports/{evaluation.pk}/").content.decode().split())
    assert "The zone's reason: The park was full in both years." in page
    assert "No reason given" not in page
    listing = " ".join(paul.get(f"/cycles/{cycle.year}/reports/").content.decode().split())
    assert "Flagged without reason: 0 figures." in listing

    paul.cookies["django_language"] = "zh-hans"
    page = " ".join(paul.get(f"/reports/{evaluation.pk}/").content.decode().split())
    assert "综试区的理由：The park was full in both years." in page
