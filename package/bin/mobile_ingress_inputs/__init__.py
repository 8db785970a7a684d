"""MDM modular inputs (Microsoft Intune, Android Management API, Jamf Pro) as plain modules.

The core (HTTP with retries, tokens, checkpoints, event writing, health, redaction) and the three
providers import only the standard library (plus `rsa`/`pyasn1` for the Google JWT), so tests run
them against local stand-ins. `modinput.py` is the only module that touches splunklib; the
scripts UCC generates call it through `bin/mobile_ingress_*_helper.py`.
"""
