"""Chainlit rendering for ragstage: the only package besides app.py that imports Chainlit.

Each module renders one thing (settings panel, steps, citations, uploads, chart, welcome);
`chat` holds the handlers that app.py registers, so app.py stays a few lines of glue.
"""
