"""The stylesheet reads as the rules it means: every block closes before the next selector,
so no rule falls silently inside another (browsers would drop or nest it)."""

import re
from pathlib import Path

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "css" / "site.css"


def rules_opened_inside_a_rule(css: str) -> list[str]:
    """The selectors opened inside a style rule (only @-rules such as @media may hold rules)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    stack: list[str] = []
    found = []
    prelude_start = 0
    for index, char in enumerate(css):
        if char == "{":
            prelude = css[prelude_start:index].strip()
            if stack and not stack[-1].startswith("@"):
                found.append(prelude.splitlines()[-1] if prelude else "?")
            stack.append(prelude)
            prelude_start = index + 1
        elif char == "}":
            if stack:
                stack.pop()
            prelude_start = index + 1
        elif char == ";":
            prelude_start = index + 1
    if stack:
        found.append(f"unclosed: {stack[-1]}")
    return found


def test_the_checker_finds_a_rule_left_open():
    assert rules_opened_inside_a_rule(".a {\n  color: red;\n.b {\n  color: blue;\n}\n") == [
        ".b",
        "unclosed: .a",
    ]
    assert rules_opened_inside_a_rule("@media (x) { .a { color: red; } }\n.b { top: 0; }") == []


def test_every_rule_of_the_stylesheet_closes_before_the_next():
    assert rules_opened_inside_a_rule(STYLESHEET.read_text(encoding="utf-8")) == []
