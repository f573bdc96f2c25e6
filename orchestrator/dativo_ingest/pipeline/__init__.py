"""One run: wiring the two sides, the relay, confirmed states, retries, checks."""
