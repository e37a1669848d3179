import os

import pytest


def pytest_collection_modifyitems(config, items):
    # run only by PythonSdkIT (local/src/test), which starts the runtime and its control endpoint
    if not os.environ.get("USAGE_TRACKER_BASE_URL") or not os.environ.get("USAGE_TRACKER_CONTROL_URL"):
        skip = pytest.mark.skip(reason="needs the local runtime: run through PythonSdkIT (./mvnw -pl local -am "
                                       "-Dtest=PythonSdkIT verify), which sets USAGE_TRACKER_BASE_URL/CONTROL_URL")
        for item in items:
            item.add_marker(skip)
