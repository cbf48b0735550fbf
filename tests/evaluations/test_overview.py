"""Finding one's work: the navigation and home page of each role, a cycle's progress, and its
methodology.

alice is an Administrator, bob an Approver, carol and erin Reviewers, dave a Viewer. The cycle
of 2021 is published (Alpha grade 1, Bravo grade 3, Charlie grade 4 and warned, awaiting a
decision); the cycle of 2022 is open with Alpha, Bravo, Charlie, Delta and Echo (another
province).
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from evaluations.models import (
    Cycle,
    Decision,
    Evaluation,
    EvaluationStatus,
    Indicator,
    Outcome,
)
from evaluations.services import cycle_open, cycle_publish, decision_record
from tests.factories import make_batch, make_province, make_user, make_zone, score_all
from zonetracker.permissions import APPROVER, REVIEWER, VIEWER

# --- helpers -----------------------------------------------------------------------------


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def nav(page: str) -> str:
    return page.split('<nav class="site-nav"')[1].split("</nav>")[0]


def nav_links(page: str) -> dict[str, str]:
    """The navigation's links: their text (badge included) by address."""
    return {
        href: re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text))).strip()
        for href, text in re.findall(r'<a[^>]* href="([^"]+)"[^>]*>(.*?)</a>', nav(page), re.S)
    }


def progress_url(year: int = 2022) -> str:
    return reverse("evaluations:cycle_progress", kwargs={"year": year})


def methodology_url(year: int = 2022) -> str:
    return reverse("evaluations:cycle_methodology", kwargs={"year": year})


def table_rows(page: str, table_id: str) -> dict[str, list[int]]:
    """A progress table's rows: the figures by the row's name, the totals under "All"."""
    table = page.split(f'id="{table_id}"')[1].split("</table>")[0]
    return {
        name.strip(): [int(figure) for figure in re.findall(r'<td class="numeric">(\d+)</td>', row)]
        for name, row in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S)
    }


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def published(cycle: Cycle) -> Cycle:
    """2021 published: grade 1 for Alpha alone, so Charlie (grade 4) is recommended a warning."""
    cycle.grade1_size = 1
    cycle.save()
    score_all(cycle, {"Alpha": 10, "Bravo": 7, "Charlie": 3})
    cycle_publish(cycle=cycle)
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def current(published: Cycle, zones) -> Cycle:
    """2022 open; Echo, of another province, joins Alpha, Bravo, Charlie and Delta."""
    make_zone(
        name_en="Echo",
        name_zh="戊市",
        province=make_province(name_en="Otherprovince", name_zh="另省", code="99"),
        batch=make_batch(),
    )
    return cycle_open(year=2022)


@pytest.fixture
def charlie_warning(published: Cycle) -> Decision:
    return Decision.objects.get(cycle=published, zone__name_en="Charlie")


# --- the navigation ----------------------------------------------------------------------


def test_an_approver_finds_the_decisions_with_how_many_await_them(
    current: Cycle, bob: User
) -> None:
    links = nav_links(html(login(bob).get(reverse("registry:zone_list"))))

    decisions = reverse("evaluations:cycle_decisions", kwargs={"year": 2021})
    assert links[decisions] == "Decisions 1 awaiting a decision"
    assert links[progress_url(2022)] == "Progress"
    assert links[reverse("evaluations:current_cycle_evaluations")] == "Evaluations"
    assert reverse("admin:index") not in links


def test_the_decisions_badge_goes_once_every_recommendation_is_decided(
    current: Cycle, bob: User, charlie_warning: Decision
) -> None:
    decision_record(decision=charlie_warning, outcome=Outcome.WARN, rationale="Rectify.", by=bob)

    links = nav_links(html(login(bob).get(reverse("home"))))

    assert links[reverse("evaluations:cycle_decisions", kwargs={"year": 2021})] == "Decisions"


def test_an_administrator_finds_decisions_progress_and_the_admin(
    current: Cycle, alice: User
) -> None:
    links = nav_links(html(login(alice).get(reverse("home"))))

    assert reverse("evaluations:cycle_decisions", kwargs={"year": 2021}) in links
    assert progress_url(2022) in links
    assert links[reverse("admin:index")] == "Admin"


def test_a_reviewer_finds_the_queue_but_neither_decisions_nor_progress(
    current: Cycle, carol: User
) -> None:
    links = nav_links(html(login(carol).get(reverse("home"))))

    assert reverse("evaluations:current_cycle_evaluations") in links
    assert not any("/decisions/" in href or "/progress/" in href for href in links)
    assert reverse("admin:index") not in links


def test_a_viewer_finds_the_register_rankings_and_methodology_only(
    current: Cycle, dave: User
) -> None:
    links = nav_links(html(login(dave).get(reverse("home"))))

    assert set(links.values()) == {"Zones", "Batches", "Rankings", "Methodology", "Notifications"}


def test_without_a_published_cycle_the_navigation_offers_no_decisions(
    cycle: Cycle, bob: User
) -> None:
    links = nav_links(html(login(bob).get(reverse("home"))))

    assert not any("/decisions/" in href for href in links)
    assert progress_url(2021) in links


def test_the_navigation_follows_permissions_not_role_names(current: Cycle) -> None:
    """A permission granted to a user directly opens the same links as the role that holds it."""
    frank = make_user("frank")
    frank.user_permissions.add(
        Permission.objects.get(codename="decide"),
        Permission.objects.get(codename="approve_evaluation"),
    )

    links = nav_links(html(login(frank).get(reverse("home"))))

    assert reverse("evaluations:cycle_decisions", kwargs={"year": 2021}) in links
    assert progress_url(2022) in links


def test_the_admin_pages_read_nothing_for_the_sites_navigation(
    current: Cycle, alice: User, django_assert_max_num_queries
) -> None:
    client = login(alice)
    client.get(reverse("admin:index"))  # warm the session

    with django_assert_max_num_queries(20) as captured:
        client.get(reverse("admin:index"))

    assert not any("COUNT" in q["sql"] and "decision" in q["sql"] for q in captured)


# --- the home page -----------------------------------------------------------------------


def test_an_approvers_home_lists_the_decisions_awaiting(
    current: Cycle, bob: User, charlie_warning: Decision
) -> None:
    page = html(login(bob).get(reverse("home")))

    decisions = page.split('id="waiting-decisions"')[1].split("</section>")[0]
    url = reverse("evaluations:cycle_decisions", kwargs={"year": 2021})
    assert f'href="{url}#decision-{charlie_warning.pk}"' in decisions
    assert '<span class="waiting-list__count">1</span>' in decisions
    assert f'href="{progress_url(2022)}"' in page


def test_a_viewers_home_leads_with_the_latest_published_rankings(
    current: Cycle, dave: User
) -> None:
    page = html(login(dave).get(reverse("home")))

    assert "Waiting for you" not in page
    rankings = page.split('id="latest-rankings-heading"')[1].split("</section>")[0]
    assert "Latest published rankings: 2021" in rankings
    assert re.findall(r'class="zone-name"[^>]*>([^<]+)<', rankings) == [
        "Alpha",
        "Bravo",
        "Charlie",
    ]
    assert f'href="{reverse("evaluations:cycle_rankings", args=[2021])}"' in rankings
    assert page.index("latest-rankings-heading") < page.index("zones in the register")


# --- progress ----------------------------------------------------------------------------


@pytest.fixture
def under_way(current: Cycle, carol: User, erin: User) -> Cycle:
    """Alpha submitted and Bravo returned (carol's), Charlie approved (erin's), Delta a draft of
    erin's, Echo not assigned."""
    evaluations = current.evaluations
    for name, reviewer, status in [
        ("Alpha", carol, EvaluationStatus.SUBMITTED),
        ("Bravo", carol, EvaluationStatus.RETURNED),
        ("Charlie", erin, EvaluationStatus.APPROVED),
        ("Delta", erin, EvaluationStatus.DRAFT),
    ]:
        evaluations.filter(zone__name_en=name).update(reviewer=reviewer, status=status)
    return current


def test_the_progress_counts_each_reviewers_and_each_provinces_evaluations(
    under_way: Cycle, bob: User
) -> None:
    page = html(login(bob).get(progress_url()))

    # evaluations, assigned, draft, reported, forwarded, submitted, returned, approved
    assert table_rows(page, "by-reviewer") == {
        "carol": [2, 2, 0, 0, 0, 1, 1, 0],
        "erin": [2, 2, 1, 0, 0, 0, 0, 1],
        "Not assigned": [1, 0, 1, 0, 0, 0, 0, 0],
        "All": [5, 4, 2, 0, 0, 1, 1, 1],
    }
    province = under_way.evaluations.get(zone__name_en="Alpha").zone.province.name_en
    assert table_rows(page, "by-province") == {
        province: [4, 4, 1, 0, 0, 1, 1, 1],
        "Otherprovince": [1, 0, 1, 0, 0, 0, 0, 0],
        "All": [5, 4, 2, 0, 0, 1, 1, 1],
    }


def test_the_progress_is_for_administrators_and_approvers(
    under_way: Cycle, alice: User, bob: User, carol: User, dave: User
) -> None:
    assert login(alice).get(progress_url()).status_code == 200
    assert login(bob).get(progress_url()).status_code == 200
    for user in (carol, dave):
        assert login(user).get(progress_url()).status_code == 403, user
        # Without telling them which years exist.
        assert login(user).get(progress_url(1999)).status_code == 403, user
    assert login(bob).get(progress_url(1999)).status_code == 404
    anonymous = Client().get(progress_url())
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_the_progress_reads_two_aggregates_however_many_zones(
    under_way: Cycle, bob: User, django_assert_max_num_queries
) -> None:
    client = login(bob)
    client.get(progress_url())
    province, batch = make_province(), make_batch()
    for n in range(30):
        make_zone(name_en=f"Zone {n:02d}", province=province, batch=batch)
    Evaluation.objects.bulk_create(
        Evaluation(cycle=under_way, zone=zone) for zone in province.zones.all()
    )

    # session, user, permissions (2), the cycle, per reviewer, per province, the navigation,
    # the unread notifications
    with django_assert_max_num_queries(9):
        response = client.get(progress_url())

    assert table_rows(html(response), "by-province")["All"][0] == 35


# --- methodology -------------------------------------------------------------------------


def test_the_methodology_reads_the_cycles_own_weights_and_policy(
    current: Cycle, dave: User, carol: User
) -> None:
    current.grade1_size = 3
    current.grade2_threshold = Decimal("80")
    current.grade3_threshold = Decimal("65.5")
    current.failing_grade = 3
    current.exit_after = 3
    current.save()
    r1 = current.indicators.get(code="R1")
    r1.weight = Decimal("30")
    r1.save()
    weight_sum = sum(i.weight for i in Indicator.objects.filter(cycle=current))
    share = (Decimal(30) * 100 / weight_sum).quantize(Decimal("0.1"))

    page = re.sub(r"\s+", " ", unescape(html(login(carol).get(methodology_url()))))

    assert "the zones ranked in the top 3 places." in page
    assert "the other zones with a total of 80 or more." in page
    assert "then those with a total of 65.5 or more." in page
    assert "the zones with a total below 65.5." in page
    assert "A zone at grade 3 (initial results) or worse in a published cycle is warned" in page
    assert "or worse in 3 consecutive published cycles is recommended for exit." in page
    assert f"their weights add up to {weight_sum.normalize():f}" in page
    row = page.split("<td>R1</td>")[1].split("</tr>")[0]
    assert '<td class="numeric">30</td>' in row and f'<td class="numeric">{share}%</td>' in row
    # The published cycle keeps its own policy.
    published = html(login(dave).get(methodology_url(2021)))
    assert "the zone ranked first." in published
    assert "the other zones with a total of 75 or more." in published


def test_the_methodology_describes_whichever_exit_rule_the_cycle_uses(
    current: Cycle, carol: User
) -> None:
    def page() -> str:
        return re.sub(r"\s+", " ", unescape(html(login(carol).get(methodology_url()))))

    current.exit_rule = "region-bottom"
    current.exit_bottom, current.exit_after, current.exit_within = 5, 2, 3
    current.save()
    text = page()
    assert (
        "A zone among the bottom 5 of its region in 2 of its last 3 ranked cycles is "
        "recommended for exit" in text
    )
    assert "a zone tied into the bottom is in it" in text
    assert "or worse in a published cycle is warned" not in text

    current.exit_rule = "region-and-nation-bottom"
    current.save()
    text = page()
    assert "both of its region and of all ranked zones in a published cycle is warned" in text
    assert "A zone among both bottoms in 2 consecutive published cycles" in text

    Indicator.objects.create(
        cycle=current,
        code="ADJ1",
        name_zh="加分项",
        name_en="Bonus for a new park",
        dimension="results",
        kind="adjustment",
        weight=Decimal(1),
        min_value=Decimal(-3),
        max_value=Decimal(5),
    )
    current.adjustment_cap = Decimal(8)
    current.save()
    text = page()
    assert "Bonus and penalty" in text
    assert "together at most ±8" in text
    assert "ADJ1 Bonus for a new park: -3 to 5 points" in text
    assert "<td>ADJ1</td>" not in text  # outside the weighted indicators


@pytest.mark.parametrize("public", [False, True])
@pytest.mark.parametrize("year", [2021, 2022, 1999])
@pytest.mark.parametrize("who", ["anonymous", "dave", "carol", "bob"])
def test_the_methodology_is_readable_exactly_where_the_rankings_are(
    current: Cycle, settings, public: bool, year: int, who: str
) -> None:
    settings.PUBLIC_RANKINGS = public
    client = Client()
    if who != "anonymous":
        role = {"dave": VIEWER, "carol": REVIEWER, "bob": APPROVER}[who]
        client.force_login(make_user(who, role))

    rankings = client.get(reverse("evaluations:cycle_rankings", args=[year]))
    methodology = client.get(methodology_url(year))

    assert methodology.status_code == rankings.status_code
    if rankings.status_code == 302:
        assert methodology["Location"].startswith("/accounts/login/")


def test_the_latest_methodology_is_that_of_the_latest_published_cycle(
    current: Cycle, dave: User
) -> None:
    response = login(dave).get(reverse("evaluations:latest_methodology"))

    assert response["Location"] == methodology_url(2021)


def test_the_rankings_page_links_to_its_methodology(current: Cycle, dave: User) -> None:
    page = html(login(dave).get(reverse("evaluations:cycle_rankings", args=[2021])))

    assert f'href="{methodology_url(2021)}"' in page
