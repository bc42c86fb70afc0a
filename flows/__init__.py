"""PCN primary mental health benchmark: the one Python package (CLI, flows, readers, rendering)."""

import os

# Offline and quiet by default (see README "Offline and quiet"). These must be set before Prefect,
# dbt or Great Expectations are imported, so they live here, at the package's first import.
_OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_HOME": os.path.abspath(".prefect"),
    "PREFECT_LOGGING_LEVEL": "WARNING",
}
for _key, _value in _OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
