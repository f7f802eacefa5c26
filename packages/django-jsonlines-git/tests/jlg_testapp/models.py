import uuid

from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    title = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    published = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    ratio = models.FloatField(null=True)
    flag = models.BooleanField(default=False)
    data = models.JSONField(default=dict)
    blob = models.BinaryField(null=True)
    author = models.ForeignKey(Author, models.CASCADE, null=True)
    tags = models.ManyToManyField("Tag")


class Tag(models.Model):
    name = models.CharField(max_length=20, unique=True)


class Counter(models.Model):
    n = models.IntegerField(default=0)
