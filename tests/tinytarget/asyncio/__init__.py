"""The asyncio API: websockets' server, and its client with one deliberate difference."""
