"""Singer tap for REST APIs: JSON records from configured endpoints, paged and incremental."""
