"""Public pages. Viewing a post records a page view in the analytics database."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from analytics.models import PageView

from .models import Author, Comment, Post, Tag


class CommentForm(forms.ModelForm):
    class Meta:
        model = Comment
        fields = ["author_name", "body"]


def _posts():
    return Post.objects.select_related("author").prefetch_related("tags")


def post_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "blog/post_list.html", {"posts": _posts()[:20], "tags": Tag.objects.all()}
    )


def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = get_object_or_404(_posts(), slug=slug)
    if request.method == "POST":
        form = CommentForm(request.POST)
        if form.is_valid():
            comment = form.save(commit=False)
            comment.post = post
            comment.save()
            return redirect(post)
    else:
        form = CommentForm()
        PageView.objects.create(path=request.path, post_id=post.pk)
    return render(
        request,
        "blog/post_detail.html",
        {"post": post, "comments": post.comments.all(), "form": form},
    )


def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=slug)
    return render(request, "blog/post_list.html", {"posts": _posts().filter(tags=tag), "tag": tag})


def author_detail(request: HttpRequest, slug: str) -> HttpResponse:
    author = get_object_or_404(Author, slug=slug)
    return render(
        request, "blog/post_list.html", {"posts": _posts().filter(author=author), "author": author}
    )
