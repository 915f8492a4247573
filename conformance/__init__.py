"""Differential conformance suite: the same scenarios on websockets, compat and peers."""
