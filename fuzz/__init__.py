"""Fuzzing run against every target: the Autobahn TestSuite and Hypothesis properties."""
