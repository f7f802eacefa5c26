"""ENGINE django_jsonlines_git.write (skeleton)."""
