"""Data Docs open offline: every page's CDN scripts and stylesheets point at the vendored copies
(pipelines/validate/docs_assets) and, opened in headless Chromium, a page asks for nothing but
its own files and logs no error."""

from __future__ import annotations

import shutil

import pytest

from pipelines.validate.offline_docs import external_assets, rewrite_page

CDN_PAGE = """<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>
<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x" crossorigin="anonymous"></script>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1"/>
<link rel="shortcut icon" href="../static/images/favicon.ico">
<a href="https://greatexpectations.io">GX</a>
</head></html>"""


def test_rewrite_points_cdn_links_at_local_copies_relative_to_the_page():
    out = rewrite_page(CDN_PAGE, "../../")
    assert 'href="../../static/vendor/bootstrap.min.css"' in out
    assert '<script src="../../static/vendor/jquery.min.js"></script>' in out
    assert '<script src="../../static/vendor/bootstrap.min.js"></script>' in out  # no SRI on a local file
    assert "vega" not in out
    assert 'src="../../static/images/logo-long.png"' in out
    assert 'href="../../static/images/favicon.ico"' in out  # GX's own link one level short, corrected
    assert external_assets(out) == []
    assert 'href="https://greatexpectations.io"' in out  # a link the reader may follow is kept
    assert external_assets(CDN_PAGE)  # the check sees what the unrewritten page loads


@pytest.fixture(scope="module")
def data_docs(staged_city):
    docs = staged_city / "reports" / "2020Q2" / "data_docs"
    assert (docs / "index.html").exists()
    return docs


def test_every_written_page_loads_only_local_assets(data_docs):
    pages = sorted(data_docs.rglob("*.html"))
    assert len(pages) >= 5
    for page in pages:
        assert external_assets(page.read_text(encoding="utf-8")) == [], page
    assert (data_docs / "static" / "vendor" / "jquery.min.js").exists()


def test_data_docs_render_offline_in_chromium(data_docs, tmp_path):
    from pipelines.report.browser import Page, chromium

    if chromium() is None:
        pytest.skip("no Chromium on this machine (make system-deps)")
    docs = tmp_path / "data_docs"
    shutil.copytree(data_docs, docs)
    for page_path in [docs / "index.html", *sorted((docs / "validations").rglob("*.html"))]:
        with Page.open(page_path) as page:
            assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == [], page_path
            assert page.console_errors == [], page_path
            assert page.evaluate("typeof jQuery") == "function"
            assert page.evaluate("document.body.innerText.length") > 500
