"""Persistence: tables, migrations, tenant-scoped sessions and repositories.

Submodules are imported on demand (``fintropy.persistence.db``, ``.repo``, ``.migrate``) so
that importing this package stays cheap for the CLI's start-up.
"""
