"""The same kind of checks in pytest style, with pytest-django's fixtures and marker.

The TestCase classes in the apps' tests.py files run under pytest-django too; these show the
plugin's own API (``django_db`` with several databases, ``client``, ``admin_client``).
"""

import pytest

from analytics.models import PageView
from blog.models import Post
from blog.sample import load_sample_data

pytestmark = pytest.mark.django_db(databases=["default", "analytics"])


@pytest.fixture
def posts():
    load_sample_data(posts=3, comments_per_post=1)
    return list(Post.objects.order_by("id"))


def test_a_post_view_is_recorded_in_the_analytics_database(client, posts):
    post = posts[1]
    response = client.get(f"/posts/{post.slug}/")
    assert response.status_code == 200
    assert post.title.encode() in response.content
    view = PageView.objects.get()
    assert (view.post_id, view._state.db) == (post.pk, "analytics")


def test_admin_lists_and_edits_posts(admin_client, posts):
    response = admin_client.get("/admin/blog/post/")
    assert response.status_code == 200
    assert all(p.title.encode() in response.content for p in posts)
    change = admin_client.get(f"/admin/blog/post/{posts[0].pk}/change/")
    assert change.status_code == 200 and posts[0].slug.encode() in change.content
