"""Device kinds: each turns its flex-model into a block of columns and rows."""
