"""Reliability and security: load, integrity, faults, hostile input and leaks on every target."""
