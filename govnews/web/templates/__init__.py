"""Jinja2 templates of the web view (a package so that the ``*.html`` files ship in the wheel)."""
