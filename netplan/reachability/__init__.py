"""Reachability checks (`checks:`): resolved to probes per host, run by each host's
agent in one request, reported as a pass/fail table, JSON, GitHub annotations or JUnit."""
