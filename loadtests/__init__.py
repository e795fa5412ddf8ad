"""Load tests and the side-by-side benchmark: locust scenarios (locustfile.py, run in its own
process) and `python -m loadtests.bench` (`make bench`), which compares docexit's adaptive exits
against the same service at full depth and a plain transformers pipeline (baseline_app.py)."""
