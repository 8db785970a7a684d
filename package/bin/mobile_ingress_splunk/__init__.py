"""Splunk-side adapters of the add-on (the engine in `mobile_ingress` stays free of Splunk)."""
