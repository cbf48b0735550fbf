"""Who may read the evaluation pages; who may change what stays in ``evaluations.services``.

Both ask ``zonetracker.permissions`` through ``has_perm``; these names say what a page asks.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from evaluations.models import Evaluation
from evaluations.services import can_return


def works_on_evaluations(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whoever reads evaluations (Reviewers, Approvers, Administrators); Viewers do not."""
    return user.has_perm("evaluations.view_evaluation")


def can_read(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """Its assigned reviewer, every Approver and every Administrator may read an evaluation."""
    return user.has_perm("evaluations.view_evaluation", evaluation)


def offers_return(user: AbstractBaseUser | AnonymousUser, evaluation: Evaluation) -> bool:
    """Whether the page offers the Return form; ``evaluation_return`` checks again."""
    return can_return(user, evaluation)
