"""The tile-grid map of China's 31 provinces: one equal square per province in its
approximate place, as newspapers draw it, coloured by a measure of a cycle's results.

Drawn on the server as SVG (``templates/evaluations/includes/tile_map.html``) with classes
only, no inline style or script (the Content-Security-Policy allows neither); the same
figures are given as a table. Each tile links to the province's zones in the register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from evaluations.models import Cycle, Recommendation
from evaluations.rankings import RankingRow
from registry.models import Province

# Province code (GB/T 2260) → column, row, and its ISO 3166-2:CN letters for the tile.
TILES: dict[str, tuple[int, int, str]] = {
    "23": (7, 0, "HL"),
    "15": (4, 1, "NM"),
    "11": (5, 1, "BJ"),
    "21": (6, 1, "LN"),
    "22": (7, 1, "JL"),
    "65": (1, 2, "XJ"),
    "62": (2, 2, "GS"),
    "64": (3, 2, "NX"),
    "14": (4, 2, "SX"),
    "13": (5, 2, "HE"),
    "12": (6, 2, "TJ"),
    "54": (1, 3, "XZ"),
    "63": (2, 3, "QH"),
    "61": (3, 3, "SN"),
    "41": (4, 3, "HA"),
    "37": (5, 3, "SD"),
    "51": (2, 4, "SC"),
    "50": (3, 4, "CQ"),
    "42": (4, 4, "HB"),
    "34": (5, 4, "AH"),
    "32": (6, 4, "JS"),
    "31": (7, 4, "SH"),
    "53": (2, 5, "YN"),
    "52": (3, 5, "GZ"),
    "43": (4, 5, "HN"),
    "36": (5, 5, "JX"),
    "33": (6, 5, "ZJ"),
    "45": (3, 6, "GX"),
    "44": (4, 6, "GD"),
    "35": (5, 6, "FJ"),
    "46": (4, 7, "HI"),
}

TILE_SIZE = 56
TILE_GAP = 4
COLUMNS = 1 + max(column for column, _row, _abbr in TILES.values())
ROWS = 1 + max(row for _column, row, _abbr in TILES.values())
# What a province's Chinese name ends with, longest first.
_SUFFIXES_ZH = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def short_name_zh(name_zh: str) -> str:
    for suffix in _SUFFIXES_ZH:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            return name_zh.removesuffix(suffix)
    return name_zh


# Colour steps, lightest to darkest; a province with no ranked zone has none. The colours
# are also the stylesheet's (.tile--N); they are given as presentation attributes as well,
# for renderers of the SVG that do not apply the page's stylesheet (the PDF).
LEVELS = 5
LEVEL_FILLS = ("#eef3f9", "#c9d9ec", "#9dbbdd", "#6a97c8", "#3a6faa", "#1d4e89")
NO_DATA_FILL = "#f4f6f8"


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: str


MEASURES: dict[str, Measure] = {
    "share": Measure("share", _("Share of zones in grades 1–2"), "%"),
    "mean": Measure("mean", _("Mean total"), ""),
    "count": Measure("count", _("Number of zones ranked"), ""),
    "warned": Measure("warned", _("Zones warned or recommended for exit"), ""),
}
DEFAULT_MEASURE = "share"


def measure_of(key: str | None) -> Measure:
    """The measure a request names, else the default."""
    return MEASURES.get(key or "", MEASURES[DEFAULT_MEASURE])


@dataclass(frozen=True)
class ProvinceFigures:
    """A province's ranked zones in one cycle, counted for every measure."""

    ranked: int = 0
    top: int = 0  # in grades 1-2
    total_sum: Decimal = Decimal(0)
    warned: int = 0  # warned or recommended for exit

    def value(self, measure: str) -> Decimal | None:
        """The measure's figure; None when the province has no ranked zone."""
        if not self.ranked:
            return None
        if measure == "count":
            return Decimal(self.ranked)
        if measure == "warned":
            return Decimal(self.warned)
        if measure == "mean":
            return (self.total_sum / self.ranked).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return (Decimal(100) * self.top / self.ranked).quantize(Decimal("0.1"), ROUND_HALF_UP)


_WEAK = {Recommendation.WARN, Recommendation.EXIT}


def figures_from_rows(rows: Iterable[RankingRow]) -> dict[int, ProvinceFigures]:
    """Province id → its figures, from ranking rows (a page's filtered rows, say)."""
    counts: dict[int, list] = {}
    for row in rows:
        if row.evaluation.rank is None:
            continue
        figures = counts.setdefault(row.zone.province_id, [0, 0, Decimal(0), 0])
        figures[0] += 1
        figures[1] += row.evaluation.grade in {1, 2}
        figures[2] += row.evaluation.total or Decimal(0)
        figures[3] += row.recommendation in _WEAK
    return {province_id: ProvinceFigures(*figures) for province_id, figures in counts.items()}


def cycle_tile_map(cycle: Cycle, measure: Measure) -> TileMap:
    """The map of the whole cycle, provinces and figures read in one query."""
    from evaluations.selectors import provinces_with_results

    provinces = list(provinces_with_results(cycle))
    figures = {
        p.pk: ProvinceFigures(p.ranked, p.top, p.total_sum or Decimal(0), p.warned)
        for p in provinces
    }
    return tile_map(cycle, figures, measure, provinces)


def level_of(value: Decimal | None, highest: Decimal, lowest: Decimal = Decimal(0)) -> int | None:
    """The colour step of a figure: 0 for nothing, 1..LEVELS from ``lowest`` (exclusive, or
    step 1 when it is a figure itself) up to the highest figure."""
    if value is None:
        return None
    if value <= 0 or highest <= 0:
        return 0
    if lowest > 0:
        if highest <= lowest:
            return LEVELS
        share = (value - lowest) / (highest - lowest)
        return max(1, min(LEVELS, 1 + int(share * (LEVELS - 1))))
    return max(1, min(LEVELS, int((value / highest * LEVELS).to_integral_value("ROUND_CEILING"))))


@dataclass(frozen=True)
class Tile:
    province: Province
    abbreviation: str
    x: int
    y: int
    value: Decimal | None
    value_text: str
    level: int | None
    url: str

    @property
    def label(self) -> str:
        """What the tile says: the short Chinese name (浙江, 内蒙古), or the ISO letters."""
        if (get_language() or "").startswith("zh"):
            return short_name_zh(self.province.name_zh)
        return self.abbreviation

    @property
    def title(self) -> str:
        """What the tile says to a pointer or a screen reader: the province and its figure."""
        return _("%(province)s: %(figure)s") % {
            "province": self.province.name,
            "figure": self.value_text,
        }

    @property
    def fill(self) -> str:
        return NO_DATA_FILL if self.level is None else LEVEL_FILLS[self.level]

    @property
    def text_fill(self) -> str:
        return "#ffffff" if self.level is not None and self.level >= 4 else "#1b1f24"

    @property
    def css_level(self) -> str:
        return "none" if self.level is None else str(self.level)

    @property
    def center_x(self) -> int:
        return self.x + TILE_SIZE // 2

    @property
    def label_y(self) -> int:
        return self.y + TILE_SIZE // 2 - 3

    @property
    def value_y(self) -> int:
        return self.y + TILE_SIZE - 10


@dataclass(frozen=True)
class TileMap:
    cycle: Cycle
    measure: Measure
    tiles: list[Tile]
    width: int = COLUMNS * (TILE_SIZE + TILE_GAP)
    height: int = ROWS * (TILE_SIZE + TILE_GAP)
    tile_size: int = TILE_SIZE

    @property
    def title(self) -> str:
        return _("%(measure)s by province, %(year)s") % {
            "measure": self.measure.label,
            "year": self.cycle.year,
        }

    @property
    def levels(self) -> range:
        return range(LEVELS + 1)


def _value_text(value: Decimal | None, measure: Measure) -> str:
    if value is None:
        return str(pgettext_lazy("a province with no zone ranked", "none"))
    if measure.key in {"count", "warned"}:
        return str(int(value))
    return f"{value}{measure.unit}"


def tile_map(
    cycle: Cycle,
    figures: dict[int, ProvinceFigures],
    measure: Measure,
    provinces: Iterable[Province] | None = None,
) -> TileMap:
    """The map of the provinces' ``figures`` by ``measure``: one query for the provinces
    when they are not given."""
    provinces = list(provinces if provinces is not None else Province.objects.all())
    nothing = ProvinceFigures()
    values = {p.pk: figures.get(p.pk, nothing).value(measure.key) for p in provinces}
    present = [v for v in values.values() if v is not None]
    highest = max(present, default=Decimal(0))
    # Shares are coloured on their own scale, 0-100 %; mean totals from the lowest province's
    # to the highest's, as they all lie far from 0; counts from 0 to the most.
    lowest = min(present, default=Decimal(0)) if measure.key == "mean" else Decimal(0)
    if measure.key == "share":
        highest = Decimal(100)
    zone_list = reverse("registry:zone_list")
    tiles = []
    for province in provinces:
        if province.code not in TILES:
            continue
        column, row, abbreviation = TILES[province.code]
        value = values[province.pk]
        tiles.append(
            Tile(
                province=province,
                abbreviation=abbreviation,
                x=column * (TILE_SIZE + TILE_GAP),
                y=row * (TILE_SIZE + TILE_GAP),
                value=value,
                value_text=_value_text(value, measure),
                level=level_of(value, highest, lowest),
                url=f"{zone_list}?province={province.pk}",
            )
        )
    tiles.sort(key=lambda tile: (tile.y, tile.x))
    return TileMap(cycle=cycle, measure=measure, tiles=tiles)


def measure_links(query: dict[str, str], current: Measure) -> list[tuple[Measure, str, bool]]:
    """Each measure with the query string that shows it (the page's other parameters kept)."""
    from django.http import QueryDict

    links = []
    for measure in MEASURES.values():
        params = QueryDict(mutable=True)
        params.update({k: v for k, v in query.items() if k not in {"map", "page"}})
        params["map"] = measure.key
        links.append((measure, "?" + params.urlencode(), measure == current))
    return links
