"""Fuzzing suites run against every target: Autobahn TestSuite via kosoku or wstest."""
