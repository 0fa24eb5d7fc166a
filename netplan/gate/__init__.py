"""netplan as a CI gate: drift vs pending, the last-applied record, saved plans, and
check's output formats (text, JSON, GitHub annotations, JUnit)."""
