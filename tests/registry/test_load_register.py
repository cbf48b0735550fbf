"""``manage.py load_register``: the real register from fixtures/, loaded once however often run."""

from __future__ import annotations

import datetime
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test.utils import override_settings

from registry.models import Batch, Province, Region, Zone

pytestmark = pytest.mark.django_db


def load_register(**options: object) -> str:
    out = StringIO()
    call_command("load_register", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_it_loads_the_31_provinces_and_the_165_zones_in_7_batches():
    output = load_register()

    assert output.splitlines() == [
        "provinces: 31 new, 0 updated, 0 unchanged",
        "zones: 165 new, 0 updated, 0 unchanged",
    ]
    assert Province.objects.count() == 31
    assert Zone.objects.count() == 165
    assert list(Batch.objects.values_list("number", "approved_on", "document_no")) == [
        (1, datetime.date(2015, 3, 7), "国函〔2015〕44号"),
        (2, datetime.date(2016, 1, 6), "国函〔2016〕17号"),
        (3, datetime.date(2018, 7, 24), "国函〔2018〕93号"),
        (4, datetime.date(2019, 12, 15), "国函〔2019〕137号"),
        (5, datetime.date(2020, 4, 27), "国函〔2020〕47号"),
        (6, datetime.date(2022, 1, 22), "国函〔2022〕8号"),
        (7, datetime.date(2022, 11, 14), "国函〔2022〕126号"),
    ]
    assert [b.zone_count for b in Batch.objects.with_zone_counts().order_by("number")] == [
        1,
        12,
        22,
        24,
        46,
        27,
        33,
    ]
    assert set(Province.objects.filter(zones__isnull=True)) == set()
    hangzhou = Zone.objects.get(name_zh="杭州市")
    assert (hangzhou.name_en, hangzhou.province.code, hangzhou.kind) == ("Hangzhou", "33", "city")
    guangxi = Province.objects.get(code="45")
    assert (guangxi.name_zh, guangxi.name_en, guangxi.region) == (
        "广西壮族自治区",
        "Guangxi",
        Region.WEST,
    )


def test_running_it_again_changes_nothing():
    load_register()
    history = Province.history.count(), Batch.history.count(), Zone.history.count()

    output = load_register()

    assert output.splitlines() == [
        "provinces: 0 new, 0 updated, 31 unchanged",
        "zones: 0 new, 0 updated, 165 unchanged",
    ]
    assert (Province.history.count(), Batch.history.count(), Zone.history.count()) == history


def test_it_is_quiet_at_verbosity_0():
    assert load_register(verbosity=0) == ""
    assert Zone.objects.count() == 165


def test_it_mentions_the_ignored_confirmed_column_only_when_asked_for_detail():
    assert "confirmed" not in load_register()
    assert "“confirmed”" in load_register(verbosity=2)


def test_it_puts_a_province_back_as_the_fixture_has_it():
    load_register()
    Province.objects.filter(code="33").update(name_en="Chekiang")

    output = load_register()

    assert "provinces: 0 new, 1 updated, 30 unchanged" in output
    assert Province.objects.get(code="33").name_en == "Zhejiang"


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A project folder whose fixtures/ are a copy of the real ones, to be spoiled by a test."""
    shutil.copytree(Path(settings.BASE_DIR) / "fixtures", tmp_path / "fixtures")
    return tmp_path


def test_it_reads_the_fixtures_of_the_project_folder(project_copy: Path):
    zones = project_copy / "fixtures" / "zones.csv"
    lines = zones.read_text(encoding="utf-8").splitlines()
    zones.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")

    with override_settings(BASE_DIR=project_copy):
        load_register()

    assert Zone.objects.count() == 2


def test_a_bad_fixture_loads_nothing_at_all(project_copy: Path):
    zones = project_copy / "fixtures" / "zones.csv"
    zones.write_text(
        zones.read_text(encoding="utf-8").replace("浙江省,city", "Atlantis,city", 1),
        encoding="utf-8",
    )
    err = StringIO()

    with override_settings(BASE_DIR=project_copy), pytest.raises(CommandError):
        call_command("load_register", stdout=StringIO(), stderr=err)

    assert "row 2, column province: Unknown province “Atlantis”" in err.getvalue()
    assert (Province.objects.count(), Zone.objects.count(), Batch.objects.count()) == (0, 0, 0)


def test_a_missing_fixture_is_a_clear_error(project_copy: Path):
    (project_copy / "fixtures" / "zones.csv").unlink()

    with override_settings(BASE_DIR=project_copy), pytest.raises(CommandError, match="no file"):
        load_register()


def test_a_bad_province_is_named_by_row_and_column_and_nothing_is_loaded(project_copy: Path):
    provinces = project_copy / "fixtures" / "provinces.csv"
    provinces.write_text(
        provinces.read_text(encoding="utf-8").replace(
            "11,北京市,Beijing,east", "11,北京市,Beijing,north"
        ),
        encoding="utf-8",
    )
    err = StringIO()

    with override_settings(BASE_DIR=project_copy), pytest.raises(CommandError):
        call_command("load_register", stdout=StringIO(), stderr=err)

    assert "row 2, column region: Value 'north' is not a valid choice." in err.getvalue()
    assert (Province.objects.count(), Zone.objects.count()) == (0, 0)


def test_loading_provinces_records_their_history_once(db):
    load_register()

    assert Province.history.filter(history_type="+").count() == 31
