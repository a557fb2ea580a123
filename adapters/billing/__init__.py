"""Billing adapters: native cloud billing exports to FOCUS 1.2, and FOCUS data on disk.

- ``aws_cur``, ``azure``, ``gcp``, ``oci``: ``to_focus(source, *, variant=...)`` converters
  returning lazy polars frames in the FOCUS 1.2 schema (``focus``).
- ``writer``: ``write_focus`` streams a frame to Parquet or CSV, one folder per billing period;
  ``scan_focus`` reads such a folder back.
- ``ingest``: ``ingest`` and ``summary``, the engine of ``fintropy billing ingest|summary``.
- ``conformance``: running the FinOps Foundation validator and its known false positives.

See docs/billing.md for every mapping decision.
"""
