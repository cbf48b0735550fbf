"""Scopes of the reporting chain as a table file: which user reports which zone, which user
pre-reviews which province. One reader (``zonetracker.tables.read_table``), one pure check,
one writer, all or nothing; the command ``import_scopes`` and the admin's Zone reporters ›
Import scopes call them."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.importing import ProvinceLookup
from registry.models import Province, ProvinceReviewer, Zone, ZoneReporter
from zonetracker.tables import (
    ImportSummary,
    RowProblems,
    Table,
    TableFileError,
    TableFormat,
    read_table,
)

SCOPE_FORMAT = TableFormat.declare(
    "user 用户名, zone? 综试区, province? 省份",
    rows=gettext_lazy("scopes"),
    name=gettext_lazy("scope"),
)


@dataclass(frozen=True)
class ScopeRow:
    """One row of a scope file as it reads, for the admin's preview."""

    number: int
    user: str
    zone: str
    province: str


@dataclass
class ScopeCheck:
    """The scopes a file asks for, as (user id, zone id) and (user id, province id) pairs."""

    problems: RowProblems
    zones: set[tuple[int, int]] = field(default_factory=set)
    provinces: set[tuple[int, int]] = field(default_factory=set)
    rows: list[ScopeRow] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.problems.messages()


def scopes_check(
    table: Table,
    *,
    users: dict[str, int],
    zones: dict[str, int],
    provinces: ProvinceLookup,
) -> ScopeCheck:
    """Each row names a user and a zone (by Chinese name, English name or slug), a province,
    or both (pure: the lookups are plain mappings read beforehand)."""
    check = ScopeCheck(problems=RowProblems(table, SCOPE_FORMAT.column_names))
    for row, cells in table.numbered_rows():
        username = str(cells.get("user") or "").strip()
        user_id = users.get(username)
        if user_id is None:
            check.problems.add(
                row, "user", _("There is no user called %(user)s.") % {"user": username}
            )
        zone_text = str(cells.get("zone") or "").strip()
        province_text = str(cells.get("province") or "").strip()
        check.rows.append(ScopeRow(row, username, zone_text, province_text))
        if not zone_text and not province_text:
            check.problems.add(row, "zone", _("Name a zone, a province, or both."))
        if zone_text:
            zone_id = zones.get(zone_text.casefold())
            if zone_id is None:
                check.problems.add(
                    row, "zone", _("Unknown zone “%(value)s”.") % {"value": zone_text}
                )
            elif user_id is not None:
                check.zones.add((user_id, zone_id))
        if province_text:
            try:
                province = provinces.resolve(province_text)
            except ValueError as error:
                check.problems.add(row, "province", str(error))
            else:
                if user_id is not None:
                    check.provinces.add((user_id, province.pk))
    return check


def scopes_write(*, check: ScopeCheck) -> tuple[int, int]:
    """Add the scopes not yet held (with history); returns how many were new and held."""
    held_zones = set(ZoneReporter.objects.values_list("user_id", "zone_id"))
    held_provinces = set(ProvinceReviewer.objects.values_list("user_id", "province_id"))
    new_zones = sorted(check.zones - held_zones)
    new_provinces = sorted(check.provinces - held_provinces)
    for user_id, zone_id in new_zones:
        ZoneReporter.objects.create(user_id=user_id, zone_id=zone_id)
    for user_id, province_id in new_provinces:
        ProvinceReviewer.objects.create(user_id=user_id, province_id=province_id)
    new = len(new_zones) + len(new_provinces)
    return new, len(check.zones) + len(check.provinces) - new


def may_assign_scopes(user: AbstractBaseUser) -> bool:
    """Whoever may add both kinds of scope (Administrators) may import a scope file."""
    return user.has_perm("registry.add_zonereporter") and user.has_perm(
        "registry.add_provincereviewer"
    )


def scopes_import(
    *, raw: bytes, by: AbstractBaseUser | None, dry_run: bool = False
) -> ImportSummary:
    """Give users the zones and provinces a scope file lists; all or nothing.

    Scopes are only added: a scope the file does not list stays (remove it in the admin).
    """
    return scopes_import_checked(raw=raw, by=by, dry_run=dry_run)[1]


def scopes_import_checked(
    *, raw: bytes, by: AbstractBaseUser | None, dry_run: bool = False
) -> tuple[ScopeCheck | None, ImportSummary]:
    """``scopes_import``, also returning the file's check (its rows) for a preview."""
    if by is not None and not may_assign_scopes(by):
        raise PermissionDenied(_("Only Administrators may assign scopes."))
    try:
        table = read_table(raw, table=SCOPE_FORMAT)
    except TableFileError as error:
        return None, ImportSummary(errors=error.problems)
    zones: dict[str, int] = {}
    for pk, name_zh, name_en, slug in Zone.objects.values_list("pk", "name_zh", "name_en", "slug"):
        for key in (name_zh, name_en, slug):
            zones[key.casefold()] = pk
    check = scopes_check(
        table,
        users=dict(get_user_model().objects.values_list("username", "pk")),
        zones=zones,
        provinces=ProvinceLookup(Province.objects.all()),
    )
    if check.errors:
        return check, ImportSummary(errors=check.errors, notices=table.notices)
    with transaction.atomic():
        new, unchanged = scopes_write(check=check)
        if dry_run:
            transaction.set_rollback(True)
    return check, ImportSummary(new=new, unchanged=unchanged, notices=table.notices)
