"""A tiny implementation of the websockets asyncio API, to run the harness on in tests.

It is websockets itself with one deliberate difference: its client's ``close()`` sends the
close reason in capitals.
"""
