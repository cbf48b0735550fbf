"""Scopes are data: assigned in the admin or from a table file, all or nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from registry.models import ProvinceReviewer, ZoneReporter
from registry.scopes import scopes_import
from tests.factories import make_province, make_user, make_zone
from zonetracker.permissions import PROVINCIAL_REVIEWER, ZONE_REPORTER


@pytest.fixture
def people(db):
    province = make_province(code="33", name_zh="浙江省", name_en="Zhejiang")
    zone = make_zone(name_zh="杭州市", name_en="Hangzhou", province=province)
    return {
        "rita": make_user("rita", ZONE_REPORTER),
        "paul": make_user("paul", PROVINCIAL_REVIEWER),
        "zone": zone,
        "province": province,
    }


def test_a_scope_file_in_chinese_headers_assigns_zones_and_provinces(people, alice):
    raw = "用户名,综试区,省份\nrita,杭州市,\npaul,,浙江\n".encode()
    summary = scopes_import(raw=raw, by=alice)
    assert summary.ok and summary.new == 2
    assert ZoneReporter.objects.get().zone == people["zone"]
    assert ProvinceReviewer.objects.get().province == people["province"]
    again = scopes_import(raw=raw, by=alice)
    assert (again.new, again.unchanged) == (0, 2)


def test_one_bad_row_and_nothing_is_assigned(people, alice):
    raw = b"user,zone,province\nrita,Hangzhou,\nnobody,Hangzhou,\npaul,Atlantis,\nrita,,\n"
    summary = scopes_import(raw=raw, by=alice)
    assert not summary.ok
    assert any("row 3" in error and "nobody" in error for error in summary.errors)
    assert any("row 4" in error and "Atlantis" in error for error in summary.errors)
    assert any("row 5" in error for error in summary.errors)
    assert not ZoneReporter.objects.exists()


def test_only_an_administrator_assigns_scopes(people, bob):
    with pytest.raises(PermissionDenied):
        scopes_import(raw=b"user,zone\nrita,Hangzhou\n", by=bob)
    assert not ZoneReporter.objects.exists()


def test_the_command_assigns_scopes_and_a_dry_run_writes_nothing(people, tmp_path, alice):
    path = tmp_path / "scopes.csv"
    path.write_bytes(b"user,zone,province\nrita,hangzhou,\npaul,,33\n")
    call_command("import_scopes", str(path), "--dry-run", verbosity=0)
    assert not ZoneReporter.objects.exists()
    call_command("import_scopes", str(path), "--user", "alice", verbosity=0)
    assert ZoneReporter.objects.count() == ProvinceReviewer.objects.count() == 1
    path.write_bytes(b"user,zone\nnobody,hangzhou\n")
    with pytest.raises(CommandError):
        call_command("import_scopes", str(path), verbosity=0)


def test_an_administrator_assigns_a_scope_in_the_admin(people, alice, client):
    client.force_login(alice)
    response = client.post(
        "/admin/registry/zonereporter/add/",
        {"user": people["rita"].pk, "zone": people["zone"].pk},
    )
    assert response.status_code == 302
    assert ZoneReporter.objects.get().user == people["rita"]
    assert client.get("/admin/registry/provincereviewer/").status_code == 200
