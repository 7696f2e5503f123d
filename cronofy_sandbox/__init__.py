"""A faithful local stand-in for Cronofy's API, its own Flask app (see create_app)."""

from cronofy_sandbox.app import create_app
from cronofy_sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
