"""The ingest service layer: its use cases (take a request's events, check a bearer token,
import an export) and the ports they need (`ports.py`), which the adapters implement."""
