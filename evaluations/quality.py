"""Data quality of reported figures: cross-indicator rules and the flags reviewers see.

Pure: plain values in, plain values out. A rule is a small expression over indicator codes
(``EXPORTS <= TRADE``, ``A + B >= 2 * C``), read with ``ast`` and walked over a whitelist of
node types; nothing is ever evaluated as Python.
"""

from __future__ import annotations

import ast
import math
import operator
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _


class ExpressionError(ValueError):
    """The expression is not one the rule language allows."""


_BINARY: dict[type, Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE: dict[type, Callable[[Decimal, Decimal], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_LONGEST = 300


def parse_rule(expression: str) -> ast.Expression:
    """The expression's tree, or ExpressionError: only comparisons of sums, differences,
    products and quotients of indicator codes and numbers, joined by ``and``/``or``."""
    if len(expression) > _LONGEST:
        raise ExpressionError(_("A rule is at most %(count)s characters.") % {"count": _LONGEST})
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ExpressionError(_("The rule cannot be read as an expression.")) from None
    _check(tree.body, top=True)
    return tree


def _check(node: ast.AST, *, top: bool = False) -> None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And | ast.Or):
        for value in node.values:
            _check(value, top=True)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ExpressionError(_("Only <, <=, >, >=, == and != compare figures."))
        for operand in [node.left, *node.comparators]:
            _check_arithmetic(operand)
    elif top:
        raise ExpressionError(_("A rule must compare figures, e.g. EXPORTS <= TRADE."))
    else:
        raise ExpressionError(_("The rule uses something it may not."))


def _check_arithmetic(node: ast.AST) -> None:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check_arithmetic(node.left)
        _check_arithmetic(node.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _check_arithmetic(node.operand)
    elif not (
        isinstance(node, ast.Name)
        or (isinstance(node, ast.Constant) and type(node.value) in {int, float})
    ):
        raise ExpressionError(_("The rule uses something it may not."))


def rule_codes(expression: str) -> set[str]:
    """The indicator codes a rule names."""
    return {n.id for n in ast.walk(parse_rule(expression)) if isinstance(n, ast.Name)}


def rule_holds(expression: str, values: Mapping[str, Decimal | None]) -> bool | None:
    """Whether the rule holds for these values by indicator code; None where a figure it
    names is missing (nothing to check yet) or a division by zero leaves it undecided."""
    tree = parse_rule(expression)
    try:
        return _truth(tree.body, values)
    except (_Missing, ZeroDivisionError, ArithmeticError):
        return None


class _Missing(Exception):
    pass


def _truth(node: ast.AST, values: Mapping[str, Decimal | None]) -> bool:
    if isinstance(node, ast.BoolOp):
        results = [_truth(v, values) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    assert isinstance(node, ast.Compare)
    left = _number(node.left, values)
    for op, comparator in zip(node.ops, node.comparators, strict=True):
        right = _number(comparator, values)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


def _number(node: ast.AST, values: Mapping[str, Decimal | None]) -> Decimal:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_number(node.left, values), _number(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return -_number(node.operand, values)
    if isinstance(node, ast.Name):
        value = values.get(node.id)
        if value is None:
            raise _Missing
        return Decimal(value)
    assert isinstance(node, ast.Constant)
    return Decimal(str(node.value))


# --- flags -------------------------------------------------------------------------------

CHANGE = "change"
OUTLIER = "outlier"
SAME_AS_LAST_YEAR = "same"

# |robust z| above this is an outlier (Iglewicz and Hoaglin's modified z-score).
OUTLIER_Z = 3.5


@dataclass(frozen=True)
class Flag:
    kind: str
    message: str


def value_flags(
    *,
    value: Decimal | None,
    last_year: Decimal | None,
    change_threshold: Decimal | None,
    robust_z: float | None,
) -> list[Flag]:
    """What a reviewer should look at twice in one figure. Flags never block."""
    if value is None:
        return []
    flags = []
    if last_year is not None and value == last_year:
        flags.append(Flag(SAME_AS_LAST_YEAR, _("The same figure as last year.")))
    elif last_year not in (None, 0) and change_threshold is not None:
        change = (value - last_year) / abs(last_year) * 100
        if abs(change) > change_threshold:
            flags.append(
                Flag(
                    CHANGE,
                    _("%(change)s%% since last year, beyond %(threshold)s%%.")
                    % {"change": f"{change:+.1f}", "threshold": change_threshold},
                )
            )
    if robust_z is not None and abs(robust_z) > OUTLIER_Z:
        flags.append(
            Flag(
                OUTLIER,
                _("An outlier among this cycle's zones (robust z-score %(z)s).")
                % {"z": f"{robust_z:.1f}"},
            )
        )
    return flags


def robust_z_scores(values: Mapping[int, Decimal], *, log_scale: bool = False) -> dict[int, float]:
    """The modified z-score of each value among all (0.6745 × (x − median) / MAD), on the
    comparison scale (log10 where the indicator is compared so). Empty when the spread is 0
    or there are fewer than three values."""
    scale = {
        key: (math.log10(v) if log_scale else float(v))
        for key, v in values.items()
        if not log_scale or v > 0
    }
    if len(scale) < 3:
        return {}
    median = statistics.median(scale.values())
    mad = statistics.median(abs(x - median) for x in scale.values())
    if mad == 0:
        return {}
    return {key: 0.6745 * (x - median) / mad for key, x in scale.items()}
