"""pytest-splunk-addon's own offline judgements on the app, as JSON (run with .venv-psa's python).

    python tools/psa/offline_report.py APP_DIR

- `mapped`: for each tag stanza, the CIM data set(s) pytest-splunk-addon maps it to by its tags;
- `not_allowed_in_props`: fields the app extracts that the CIM says an add-on must not
  (pytest-splunk-addon's test_cim_fields_not_allowed_in_props, which needs no Splunk).
tests/normalize/test_psa.py reads it.
"""

from __future__ import annotations

import json
import os
import sys

from pytest_splunk_addon.cim_tests.test_generator import CIMTestGenerator


def main(app: str) -> None:
    import pytest_splunk_addon

    models = os.path.join(os.path.dirname(pytest_splunk_addon.__file__), "data_models")
    generator = CIMTestGenerator(app, models, tokenized_events=[])
    mapped = {
        str(stanza): [str(data_set) for data_set in data_sets]
        for stanza, data_sets in generator.get_mapped_datasets()
    }
    (param,) = list(generator.generate_field_extractions_test())
    print(json.dumps({"mapped": mapped, "not_allowed_in_props": param.values[0]["fields"]}))


if __name__ == "__main__":
    main(sys.argv[1])
