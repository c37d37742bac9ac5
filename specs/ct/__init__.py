"""Controlled terminology: a versioned CDISC CT subset (built by build_subset.py) and sponsor lists."""
