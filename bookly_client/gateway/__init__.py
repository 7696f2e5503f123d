"""The gateway: reads, guarded writes, change feed and start-up check on Bookly's tables."""

from bookly_client.gateway.facade import BooklyGateway

__all__ = ["BooklyGateway"]
