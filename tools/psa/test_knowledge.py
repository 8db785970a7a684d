"""pytest-splunk-addon's knowledge tests for TA-mobile-ingress (run by pytest-splunk-addon 6.4).

With a live Splunk (`--splunk-type=external --splunk-host=...`) they ingest samples/ as
pytest-splunk-addon-data.conf describes and check every props field, eventtype, tag and CIM data
set. Offline, `make psa-generate` collects them: generation reads the app's confs and the
samples, which is what can be proven without Splunk.
"""

from __future__ import annotations

from pytest_splunk_addon.standard_lib.addon_basic import Basic


class Test_App(Basic):
    def empty_method(self) -> None:
        pass
