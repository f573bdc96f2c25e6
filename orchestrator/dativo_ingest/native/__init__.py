"""Native connectors: Python classes written as the connector guide shows, run as Singer taps."""
