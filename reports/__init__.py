"""The compatibility report: every result file of a run rendered into one HTML page.

The renderer lives in :mod:`reports.render`; importing the package, or helpers such as
:mod:`reports.markdown`, doesn't import it or Jinja2.
"""
