"""Risk stage (issue #5): income-threshold risk, monitoring categories, transitions, assistance coverage.

Entry points: `pipelines.risk.pipeline.run` / `summary`; 明白卡: `pipelines.risk.cards.write_cards`;
benchmark: `benchmarks/risk.py`. Rules: config/risk.toml.
"""
