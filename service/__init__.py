"""docexit's HTTP service: FastAPI around the multi-exit checkpoint (see service/app.py)."""
