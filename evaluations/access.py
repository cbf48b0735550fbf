"""Who may read the evaluation pages; who may change what stays in ``evaluations.services``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from evaluations.models import Evaluation
from evaluations.services import can_return
from registry.roles import ADMINISTRATOR, APPROVER, REVIEWER, has_role


def works_on_evaluations(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Reviewers, Approvers and Administrators work on evaluations; Viewers do not."""
    return has_role(user, REVIEWER, APPROVER, ADMINISTRATOR)


def reads_every_evaluation(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, APPROVER, ADMINISTRATOR)


def can_read(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """Its assigned reviewer, every Approver and every Administrator may read an evaluation."""
    if reads_every_evaluation(user):
        return True
    return has_role(user, REVIEWER) and evaluation.reviewer_id == user.pk


def offers_return(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """Whether the page offers the Return form; ``evaluation_return`` checks again."""
    return can_return(user, evaluation)
