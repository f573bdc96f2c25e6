"""Singer (and, later, Airbyte) messages: fast classification of byte chunks, state lines."""
