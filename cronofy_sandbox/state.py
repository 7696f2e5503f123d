"""The sandbox instance bound to one Flask app: config, storage, outbound delivery."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from cronofy_sandbox.config import SandboxConfig
from cronofy_sandbox.delivery import Deliverer
from cronofy_sandbox.store import Store

EXTENSION_KEY = "cronofy_sandbox"


@dataclass(frozen=True, slots=True)
class Sandbox:
    """What every view needs: the config, the store and the deliverer."""

    config: SandboxConfig
    store: Store
    deliverer: Deliverer


def get_sandbox() -> Sandbox:
    """The Sandbox of the current Flask app."""
    sandbox = current_app.extensions[EXTENSION_KEY]
    if not isinstance(sandbox, Sandbox):
        raise RuntimeError("not a cronofy_sandbox app")
    return sandbox
