"""Data Docs that open offline: GX writes pages that load jQuery, Bootstrap, bootstrap-table,
Font Awesome, … from CDNs (and a logo from S3); on an office machine without internet they are
blank. After GX writes the site, `make_offline(docs_dir)` copies the vendored files
(docs_assets/, README there) to docs_dir/static/vendor/ and rewrites every page's links to them,
relative to the page. Links to assets no page needs (vega: profiling pages only; the dark theme)
are removed. Whatever external asset is left is returned, so a new GX version that adds one is
noticed (the validate tests assert none is left)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).parent / "docs_assets"
VENDOR = Path("static") / "vendor"

# CDN address (regex, up to the closing quote) -> file under static/vendor/, or None: drop the tag
LOCAL = [
    (r"https://code\.jquery\.com/jquery-3\.7\.1\.min\.js", "jquery.min.js"),
    (r"https://maxcdn\.bootstrapcdn\.com/bootstrap/4\.3\.1/css/bootstrap\.min\.css", "bootstrap.min.css"),
    (r"https://stackpath\.bootstrapcdn\.com/bootstrap/4\.3\.1/js/bootstrap\.min\.js", "bootstrap.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/1\.12\.9/umd/popper\.min\.js", "popper.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/bootstrap-table\.min\.css", "bootstrap-table.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/bootstrap-table\.min\.js", "bootstrap-table.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/extensions/filter-control/"
     r"bootstrap-table-filter-control(?:\.min)?\.css", "bootstrap-table-filter-control.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/extensions/filter-control/"
     r"bootstrap-table-filter-control(?:\.min)?\.js", "bootstrap-table-filter-control.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/css/bootstrap-datepicker\.min\.css",
     "bootstrap-datepicker.min.css"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/js/bootstrap-datepicker\.min\.js",
     "bootstrap-datepicker.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/6\.6\.0/css/all\.min\.css", "fontawesome/css/all.min.css"),
    (r"https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@1\.1\.0/dist/css/bootstrap-prefers-dark\.css", None),
    (r"https://cdn\.jsdelivr\.net/npm/vega(?:-lite|-embed)?@\d+", None),
]
LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*/logo-long\.png[^\"']*")
TAG = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=[\"']([^\"']+)[\"'][^>]*>(?:\s*</script>)?", re.S)
EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=[\"'](https?://[^\"']+)[\"']", re.S)
SITE_STATIC = re.compile(r"((?:src|href)=[\"'])(?:\.\./)*static/")
SRI = re.compile(r"\s+(?:integrity|crossorigin)=[\"'][^\"']*[\"']")


def _rewrite_tag(match: re.Match, prefix: str) -> str:
    tag, url = match.group(0), match.group(2)
    for pattern, local in LOCAL:
        if re.fullmatch(pattern, url):
            if local is None:
                return ""
            # a local file needs no integrity check (and file: pages cannot make the CORS request SRI needs)
            return SRI.sub("", tag.replace(url, prefix + (VENDOR / local).as_posix()))
    return tag


def rewrite_page(text: str, prefix: str) -> str:
    """A page's CDN links pointed at prefix + static/vendor/…, the S3 logo at the site's own copy."""
    text = TAG.sub(lambda m: _rewrite_tag(m, prefix), text)
    text = LOGO.sub(prefix + "static/images/logo-long.png", text)
    # GX writes some of its own static links one level short on nested validation pages (favicon)
    return SITE_STATIC.sub(lambda m: m.group(1) + prefix + "static/", text)


def external_assets(text: str) -> list[str]:
    """Scripts, stylesheets, images and frames a page still loads from the network."""
    return EXTERNAL.findall(text)


def make_offline(docs_dir: Path) -> list[str]:
    """Vendor the assets into docs_dir and rewrite every page; returns external assets left."""
    docs_dir = Path(docs_dir)
    if not (docs_dir / "index.html").exists():
        return []
    vendor = docs_dir / VENDOR
    shutil.copytree(ASSETS, vendor, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    left = []
    for page in sorted(docs_dir.rglob("*.html")):
        depth = len(page.relative_to(docs_dir).parts) - 1
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text, "../" * depth)
        if new != text:
            tmp = page.with_name(f".{page.name}.tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, page)
        left += [f"{page.relative_to(docs_dir)}: {url}" for url in external_assets(new)]
    return left
