"""WebSocket extensions: compat supports permessage-deflate only."""
