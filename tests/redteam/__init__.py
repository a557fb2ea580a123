"""Red-team suite (issue #3): hostile requests against the real stack, each checked for no side
effect, a clear answer to the person, and an audited refusal.

- ``test_slack_approvals``: the Slack approval path (signatures, replays, button tokens, roles,
  owners, two-person rule, other tenants, expiry, races, retries, restore);
- ``test_tenancy_and_ledger``: Row-Level Security from the app role, the append-only ledger and
  ``fintropy audit verify`` after superuser tampering;
- ``test_worker_crash``: a worker lost in the middle of a remediation step.

Defects are recorded as ``xfail(strict=True, raises=<the exception that shows the defect>)``.
"""
