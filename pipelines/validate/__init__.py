"""Validation stage: Great Expectations suites (data quality, 两不愁三保障), problem ledger, CI gate."""
