"""evalscope-app: `evalscope app` shows, compares and shares the run folders every backend writes.

A standard-library HTTP server answers from an in-memory index of each run folder (`index.py`),
and one static HTML/CSS/JS front end (`static/`) draws every view; `export.py` inlines the same
front end and the data into one HTML file that works from `file://` with the network off.
"""

__version__ = "0.1.0"
