"""PCN primary mental health benchmark: the one Python package (CLI, flows, readers, rendering)."""

import logging
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
    # the project's own `flows.*` log lines (structured, INFO) reach the Prefect UI within runs
    "PREFECT_LOGGING_EXTRA_LOGGERS": "flows",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}
for _key, _value in _OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)

logging.getLogger("flows").setLevel(logging.INFO)

__version__ = "0.1.0"
