"""Named users, one per role, so that permission tests read as stories.

alice is an Administrator, bob an Approver, carol and erin Reviewers, dave a Viewer.
"""

import pytest
from django.utils import translation

from tests.factories import make_user
from zonetracker.permissions import ADMINISTRATOR, APPROVER, REVIEWER, VIEWER


@pytest.fixture
def alice(db):
    return make_user("alice", ADMINISTRATOR)


@pytest.fixture
def bob(db):
    return make_user("bob", APPROVER)


@pytest.fixture
def carol(db):
    return make_user("carol", REVIEWER)


@pytest.fixture
def erin(db):
    return make_user("erin", REVIEWER)


@pytest.fixture
def dave(db):
    return make_user("dave", VIEWER)


@pytest.fixture
def register(db):
    """The real register of 31 provinces and 165 zones, loaded as `load_register` does."""
    from django.core.management import call_command

    call_command("load_register", verbosity=0)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Evidence files written by a test land in its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def language_restored():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware activates it);
    each test starts and ends in the default language, so none depends on another's."""

    with translation.override(None):
        yield


@pytest.fixture(autouse=True)
def cache_cleared():
    """Each test starts with an empty cache: ids are reused from one test's database to the
    next, so a page cached by one test could otherwise be served to another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
