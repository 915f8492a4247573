"""The asyncio API of websockets, on the picows core."""
