"""Command groups of the ``fintropy`` CLI, each a ``typer.Typer`` mounted by ``fintropy.cli``.

Modules here import only typer at the top; everything else is imported inside the commands,
so ``fintropy --help`` stays fast.
"""
