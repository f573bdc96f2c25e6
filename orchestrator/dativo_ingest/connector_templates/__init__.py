"""Templates of ``dativo new connector``: ``common/`` for every kind, then ``<kind>/``."""
