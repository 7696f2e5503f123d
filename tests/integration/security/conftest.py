"""Security requirement tests: the app wired to a served Cronofy sandbox.

The fixtures come from the Individual Connect and Enterprise Connect test folders (imported,
not copied): ``wiring``/``app_clients``/``app_overrides`` point the app at the sandbox,
``instructor`` is a logged-in instructor of ``people``, ``tenants``/``admin_client`` are the
demo organisation whose admin the sandbox knows, and ``served`` serves the app for real.
"""

from __future__ import annotations

from tests.integration.connect.conftest import (  # noqa: F401 - fixtures re-exported
    app_clients,
    app_overrides,
    fast_password_hashing,
    instructor,
    wiring,
)
from tests.integration.enterprise.conftest import (  # noqa: F401 - fixtures re-exported
    admin_client,
    served,
    tenants,
)
