"""A stand-in for the `splunk` package of splunkd's own Python: only `splunk.admin` (admin.py)."""
