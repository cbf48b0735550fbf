"""What cycle_policy and what_if share: the options that name a policy's settings."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandParser

from evaluations.policy import FIELD_NAMES
from evaluations.rules import RULES


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


def add_policy_options(parser: CommandParser) -> None:
    parser.add_argument("--rule", choices=RULES, help="the exit rule")
    parser.add_argument(
        "--failing-grade", type=int, metavar="N", help="grade-run: this grade or worse fails"
    )
    parser.add_argument("--bottom", type=int, metavar="K", help="the bottom rules' K")
    parser.add_argument("--times", type=int, metavar="N", help="failing cycles before exit")
    parser.add_argument(
        "--within", type=int, metavar="M", help="region-bottom: among the last M ranked cycles"
    )
    parser.add_argument("--grade1-size", type=int, metavar="N", help="grade 1: the top N ranks")
    parser.add_argument("--grade2-threshold", type=_decimal, metavar="X")
    parser.add_argument("--grade3-threshold", type=_decimal, metavar="X")
    parser.add_argument(
        "--adjustment-cap", type=_decimal, metavar="X", help="bonus and penalty within ± X"
    )


def policy_changes(options: dict[str, Any]) -> dict[str, object]:
    """The cycle fields the given options set, with their values."""
    return {
        field: options[record]
        for record, field in FIELD_NAMES.items()
        if options.get(record) is not None
    }
