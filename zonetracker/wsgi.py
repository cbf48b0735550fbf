"""WSGI entry point (gunicorn zonetracker.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zonetracker.settings")

application = get_wsgi_application()
