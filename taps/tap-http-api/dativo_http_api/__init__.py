"""A native Dativo connector for JSON HTTP APIs: the connector guide's example, working."""

from dativo_http_api.extractor import HttpApiExtractor

__all__ = ["HttpApiExtractor"]
