"""Hypothesis properties: generated frames, handshakes, call sequences and options, differential."""
