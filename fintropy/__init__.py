"""fintropy."""
