"""Cloud adapters: one package per platform (``adapters.aws`` ...).

Each turns SDK responses into ``fintropy.domain`` resources and metrics and carries out
catalogue actions. SDKs are imported inside functions, so importing an adapter is free.
"""
