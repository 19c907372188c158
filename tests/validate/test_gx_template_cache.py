"""gx_duckdb.install_template_cache: every Data Docs view of the process shares one in-memory jinja2
bytecode cache, so a template is compiled once per process rather than once per page; each view
keeps its own Environment (and filters), and the code a view runs is the code jinja2 compiles."""

from __future__ import annotations

from pipelines.validate import gx_duckdb


def test_views_share_compiled_templates():
    gx_duckdb.gx()
    from great_expectations.render.view.view import DefaultJinjaView

    first, second, plain = DefaultJinjaView(), DefaultJinjaView(), DefaultJinjaView()
    assert first.env is not second.env
    cache = first.env.bytecode_cache
    assert cache is not None and cache is second.env.bytecode_cache
    plain.env.bytecode_cache = None  # GX's own behaviour: every view compiles

    first.env.get_template("page.j2")
    compiled = dict(cache.code)
    assert compiled  # page.j2 compiled once and kept
    from_cache = second.env.get_template("page.j2")
    assert cache.code == compiled  # the second view compiled nothing
    assert from_cache.environment is second.env  # its own Environment, its own filters
    fresh = plain.env.get_template("page.j2")
    assert from_cache.root_render_func.__code__.co_code == fresh.root_render_func.__code__.co_code
