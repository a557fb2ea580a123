"""Shared test fixtures. Each real component has its own fixture module under tests/support."""

import atexit
import logging
import os
import time

# moto seeds ~1,300 foreign AMIs (and a snapshot for each) unless told otherwise; this must be
# set before moto is imported anywhere.
os.environ.setdefault(
    "MOTO_AMIS_PATH", os.path.join(os.path.dirname(__file__), "..", "adapters", "aws", "amis.json")
)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

# temporalio's Rust threads can touch the GIL during interpreter finalisation and abort the
# process (sdk-python #300); a short pause before finalisation avoids it.
atexit.register(time.sleep, 0.5)

logging.getLogger("werkzeug").setLevel(logging.ERROR)

pytest_plugins = [
    "tests.support.moto_fixtures",
    "tests.support.pg_fixtures",
    "tests.support.temporal_fixtures",
    "tests.support.slack_fixtures",
]
