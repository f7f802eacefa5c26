"""Models covering every field type django-prisma must round-trip exactly."""

import uuid

from django.db import models
from django_prisma.cache import CacheableManager


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(null=True)

    objects = CacheableManager()


class Book(models.Model):
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    editor = models.ForeignKey(Author, models.SET_NULL, null=True, related_name="edited_books")
    title = models.TextField()
    pages = models.IntegerField(default=0)
    tags = models.ManyToManyField("Tag", blank=True)

    objects = CacheableManager()


class Tag(models.Model):
    name = models.SlugField(unique=True)


class AllTypes(models.Model):
    small = models.SmallIntegerField(null=True)
    integer = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    pos = models.PositiveIntegerField(null=True)
    flt = models.FloatField(null=True)
    dec = models.DecimalField(max_digits=30, decimal_places=10, null=True)
    boolean = models.BooleanField(null=True)
    char = models.CharField(max_length=50, null=True)
    text = models.TextField(null=True)
    date = models.DateField(null=True)
    datetime = models.DateTimeField(null=True)
    time = models.TimeField(null=True)
    uuid = models.UUIDField(null=True, default=uuid.uuid4)
    binary = models.BinaryField(null=True)
    json = models.JSONField(null=True)
    ip = models.GenericIPAddressField(null=True)
    duration = models.DurationField(null=True)
