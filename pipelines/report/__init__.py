"""Quarterly summary (issue #6): warehouse -> summary.html, summary.xlsx, PNG figures.

Also the shared helpers the analyst notebooks import (warehouse views, queries, charts)."""
