"""Django data kept as JSONLines files in a git repository (ENGINE ``django_jsonlines_git``)."""

__version__ = "0.1.0"
