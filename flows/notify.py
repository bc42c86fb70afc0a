"""Notifications to people: one configurable Apprise URL (PCN_BENCHMARK_NOTIFY_URL).

Sent when a run fails, when the quality gate refuses a month, and when a source has not
published its expected month by the configured day (`pcn-benchmark check-sources`). A notification
that cannot be delivered is logged, never allowed to hide the failure it reports.
"""

from __future__ import annotations

import logging

from flows.settings import get_settings

logger = logging.getLogger(__name__)


def notify(title: str, body: str, url: str | None = None) -> bool:
    """Send one notification; returns whether it was delivered (False when none is configured)."""
    url = url if url is not None else get_settings().notify_url
    if not url:
        return False
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        logger.warning("notify: %s is not a URL Apprise understands; nothing sent", _redact(url))
        return False
    delivered = bool(sender.notify(title=title, body=body))
    if not delivered:
        logger.warning("notify: could not deliver %r to %s", title, _redact(url))
    return delivered


def _redact(url: str) -> str:
    """The scheme and host only: notification URLs often carry tokens."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/')[0].split('@')[-1]}/..."
