"""Mobile Ingress Tool Transfer detection (MITRE ATT&CK T1544, DET0718)."""

__version__ = "0.1.0"
