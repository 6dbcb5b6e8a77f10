"""ASGI entry point: ``uvicorn example_project.asgi:application`` (see the README)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

# No persistent database connections under ASGI (Django's docs, "Persistent connections").
os.environ.setdefault("DJANGO_CONN_MAX_AGE", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_asgi_application()
