"""The WSGI entry point: ``gunicorn wsgi:app``."""

import sys

from webapp import create_app
from webapp.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a missing secret: say which, without a traceback
    sys.exit(f"Cannot start the calendar bridge: {exc}")
