import importlib

import pytest
from django.core.exceptions import ImproperlyConfigured


def test_package_imports_and_reports_version():
    mod = importlib.import_module("django_prisma")
    assert mod.__version__


def test_engine_refuses_until_written():
    with pytest.raises(ImproperlyConfigured, match="not implemented yet"):
        importlib.import_module("django_prisma.base")
