"""pycronofy, routed through our ``Transport`` (reference §11.4: subclass, don't fork).

pycronofy 2.1.1 funnels every call through ``RequestHandler._request``; replacing that one
method gives its calls our session, timeouts, retries, rate limiting, lowercase booleans,
base-URL override and error mapping. ``pycronofy.Client`` keeps one account's tokens and
mutates them on refresh, so ``SdkClient`` objects are built per call and never shared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pycronofy
from pycronofy.exceptions import PyCronofyException
from pycronofy.request_handler import RequestHandler

from cronofy_client.errors import CronofyError
from cronofy_client.transport import Transport

log = logging.getLogger(__name__)

API_VERSION = "v1"


class ResilientRequestHandler(RequestHandler):  # type: ignore[misc]  # pycronofy is untyped
    """pycronofy request handler that delegates the HTTP exchange to ``Transport``."""

    def __init__(self, auth: Any, *, transport: Transport, api_base_url: str) -> None:
        super().__init__(auth)
        self.base_url = api_base_url
        self.transport = transport

    def _request(
        self,
        request_method: str,
        endpoint: str = "",
        url: str = "",
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        use_api_key: bool = False,
        omit_api_version: bool = False,
    ) -> Any:
        """Same contract as pycronofy's ``_request``, but sent through ``Transport``."""
        if endpoint and not url:
            prefix = self.base_url if omit_api_version else f"{self.base_url}/{API_VERSION}"
            url = f"{prefix}/{endpoint}"
        bearer = self.auth.client_secret if use_api_key else self.auth.access_token
        method = request_method.upper()
        # pycronofy sends {} as a body even on GET; only POST and bodied DELETEs need one.
        body = data if (method == "POST" or data) else None
        return self.transport.request(method, url, bearer=bearer, json=body, params=params)


class SdkClient(pycronofy.Client):  # type: ignore[misc]  # pycronofy is untyped
    """A ``pycronofy.Client`` for one account (or the app key) on our transport."""

    def __init__(
        self,
        *,
        transport: Transport,
        api_base_url: str,
        client_id: str,
        client_secret: str,
        access_token: str | None = None,
    ) -> None:
        super().__init__(
            client_id=client_id, client_secret=client_secret, access_token=access_token
        )
        self.request_handler = ResilientRequestHandler(
            self.auth, transport=transport, api_base_url=api_base_url
        )


@contextmanager
def sdk_errors(what: str) -> Iterator[None]:
    """Turn pycronofy's own exceptions, and its failures to read a response, into ``CronofyError``.

    pycronofy calls ``response.json()[key]`` itself, so a non-JSON or oddly shaped 2xx body
    surfaces here as ValueError/KeyError/TypeError. Build arguments before entering.
    """
    try:
        yield
    except PyCronofyException as exc:
        log.warning("pycronofy refused %s: %s", what, type(exc).__name__)
        raise CronofyError(f"pycronofy refused {what}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("Unexpected Cronofy response for %s: %s", what, type(exc).__name__)
        raise CronofyError(f"Unexpected Cronofy response for {what}") from exc
