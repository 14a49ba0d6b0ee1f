"""Shared pytest set-up: make the collection importable as ansible_collections.aiplatform.obot
and the test-bed helpers importable as ``testbed``."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
for path in (COLLECTIONS, os.path.join(ROOT, "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)
