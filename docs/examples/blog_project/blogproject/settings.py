"""Settings for the reference blog project (see databases.py for the database choice)."""

import os
from pathlib import Path

from .databases import from_environment

BASE_DIR = Path(__file__).resolve().parent.parent

# A development key: this project is a local demo, never deployed as is.
SECRET_KEY = os.environ.get("BLOG_SECRET_KEY", "django-insecure-reference-blog-project-demo")
DEBUG = os.environ.get("BLOG_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "blog",
    "analytics",
    "audit",
    "tasks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "blogproject.urls"
WSGI_APPLICATION = "blogproject.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

BLOG_BACKEND, DATABASES = from_environment(BASE_DIR)
# The analytics app lives in its own database (alias "analytics").
DATABASE_ROUTERS = ["blogproject.routers.AnalyticsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

# Task queue: seconds to wait before retrying a failed task (times the attempt number).
TASKS_RETRY_DELAY = float(os.environ.get("BLOG_TASKS_RETRY_DELAY", "5"))
