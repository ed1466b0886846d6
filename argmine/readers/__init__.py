"""Readers: every corpus and raw comment page becomes ``Thread`` objects."""
