"""Skeleton: this backend is not written yet (issue 4).

Selecting it raises ImproperlyConfigured instead of pretending to work.
"""

from django.core.exceptions import ImproperlyConfigured

raise ImproperlyConfigured(
    "django-dbms is not implemented yet; this release only reserves the package name. "
    "Use another backend until it lands."
)
