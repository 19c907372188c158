"""Benchmarks (`make bench`, `python -m benchmarks.run`) and the canonical-table factory that
benches and tests share (`benchmarks.factory`). Not part of the installed `pipelines` package."""
