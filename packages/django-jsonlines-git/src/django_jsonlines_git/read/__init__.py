"""ENGINE django_jsonlines_git.read (skeleton)."""
