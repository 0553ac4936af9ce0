"""The package version, in the lowest layer so that file writers can record it without
importing the top package (keep it equal to pyproject.toml's ``version``)."""

__version__ = "0.1.0"
