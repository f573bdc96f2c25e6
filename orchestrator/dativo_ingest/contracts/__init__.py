"""Data contracts (ODCS v3.1 subset): models and loading (`model`), checks (`checks`), their
enforcement in the relay (`enforce`), quarantine and reports. The package imports nothing
itself: a run without contracts never builds their models."""
