"""Hypothesis properties: generated frames, call sequences and options, differential."""
