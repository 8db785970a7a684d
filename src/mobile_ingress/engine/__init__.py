"""The detection engine: pure Python, no Splunk imports.

Used unchanged by the `mobile-ingress` command line and by the `ingresscorrelate` search command.
Data flows one way: records -> `events.normalize_record` -> `prefilter` -> `stream.Correlator`
(which drives `chain` over bounded windows) -> `findings.Finding`.
"""
