"""Reusable model behaviour (abstract models without a table of their own)."""
