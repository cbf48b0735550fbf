"""The survival-of-the-fittest rule, sequence by sequence."""

import pytest

from evaluations.rules import EXIT, LIFT, WARN, RulePolicy, failing_run, recommend


@pytest.mark.parametrize(
    ("grades", "on_notice", "expected"),
    [
        ([1], False, None),
        ([3], False, None),
        ([4], False, WARN),
        ([2, 4], False, WARN),
        ([4, 4], True, EXIT),
        ([4, 4], False, EXIT),
        ([4, 4, 4], True, EXIT),
        ([4, 3], True, LIFT),
        ([4, 1], True, LIFT),
        ([3, 3], False, None),
        ([4, None, 4], False, WARN),  # not evaluated in between: not consecutive
        ([4, None], True, None),  # not evaluated now: nothing to recommend
        ([None, 4], False, WARN),
        ([], False, None),
    ],
)
def test_each_sequence_of_grades_gets_its_recommendation(grades, on_notice, expected):
    assert recommend(grades, on_notice=on_notice).recommendation == expected


def test_the_failing_grade_and_the_run_length_come_from_the_policy():
    strict = RulePolicy(failing_grade=3, exit_after=3)
    assert recommend([3, 4], on_notice=True, policy=strict).recommendation == WARN
    assert recommend([3, 4, 3], on_notice=True, policy=strict).recommendation == EXIT
    assert recommend([4, 2], on_notice=True, policy=strict).recommendation == LIFT
    immediate = RulePolicy(exit_after=1)
    assert recommend([4], on_notice=False, policy=immediate).recommendation == EXIT


def test_the_failing_run_counts_only_the_latest_consecutive_cycles():
    assert failing_run([4, 4, 3, 4, 4], RulePolicy()) == 2
    assert failing_run([4, 4, None, 4], RulePolicy()) == 1
    assert failing_run([4, 4, 3], RulePolicy()) == 0
