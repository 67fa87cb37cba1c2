"""Tests of the Python package: run with Debian's interpreter from the repository root,
`PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python` (scripts/test.sh does); without
PYTHONPATH the build tree's package is used."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
BUILD_PACKAGE = os.path.join(ROOT, "build", "python")
if not os.environ.get("PYTHONPATH") and os.path.isdir(BUILD_PACKAGE):
    sys.path.insert(0, BUILD_PACKAGE)
