"""The Grafana dashboards as code: `python deploy/grafana/generate.py` writes dashboards/*.json.

The panels live in the `iprwatch_grafana` package beside this script, one module per dashboard,
built with Grafana's typed builders. Edit them, run this script, commit both;
tests/observability/test_dashboards.py checks that the JSON files are what it writes. Division
and indicator names, the plans' areas and the default plan come from the bundled plan files.
"""

from __future__ import annotations

from iprwatch_grafana import main

if __name__ == "__main__":
    main()
