"""Comparing packages (PROC COMPARE-style diff, data-cut view) and tracing a value to its source."""
