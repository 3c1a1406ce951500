"""A registry simulator: years of calibrated, messy registration events and their ground truth.

`model` holds the rates and their calibration, `generator` the deterministic event stream,
`truth` the expected values (a reference fold of what was sent), `client` the HTTP sender,
`demo` the `iprwatch demo` walkthrough and `cli` the commands.
"""
