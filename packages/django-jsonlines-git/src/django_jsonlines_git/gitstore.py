"""The git side: open/init the repository, read trees, commit files crash-safely, lock.

A write goes: blobs, tree and commit objects into the object store (inert until referenced) →
journal → working files via temp file + rename → HEAD's branch moved through ``<ref>.lock`` +
rename after checking it still names the old commit (compare-and-swap; the commit point) → index
refresh → journal removed. HEAD is the truth the
engines read, so a process killed anywhere leaves the old or the new commit. The journal lets the
next writer put the working tree and index back in step with HEAD.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import sqlite3
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from struct import pack

import git
from git.index.typ import IndexEntry
from gitdb.base import IStream
from gitdb.db import LooseObjectDB

STATE_DIR = "django-jsonlines-git"  # inside .git: never part of the work tree or of commits
ZERO = "0" * 40
_U32 = 0xFFFFFFFF


class LockTimeout(sqlite3.OperationalError):
    """Another process held the repository lock for longer than OPTIONS['lock_timeout']."""


@dataclass(frozen=True)
class Entry:
    """One top-level tree entry."""

    mode: int
    binsha: bytes


def blob_sha(data: bytes) -> bytes:
    """The git object id of a blob with this content (binary)."""
    h = hashlib.sha1(b"blob %d\0" % len(data))  # noqa: S324 - git's object id
    h.update(data)
    return h.digest()


def parse_actor(text: str) -> git.Actor:
    """'Name <email>' → Actor (email optional)."""
    text = text.strip()
    if text.endswith(">") and "<" in text:
        name, _, email = text[:-1].rpartition("<")
        return git.Actor(name.strip(), email.strip())
    return git.Actor(text, "")


class GitStore:
    """One repository directory as seen by one Django connection."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool) -> None:
        self.path = Path(path).resolve()
        if create:
            self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.repo = git.Repo(self.path, search_parent_directories=False)
        except git.NoSuchPathError:
            raise sqlite3.OperationalError(
                f"no git repository at {self.path}: the directory does not exist "
                "(the write engine creates it, e.g. with `migrate --database <write alias>`)"
            ) from None
        except git.InvalidGitRepositoryError:
            if not create:
                raise sqlite3.OperationalError(
                    f"{self.path} is not a git repository (the write engine creates one)"
                ) from None
            self.repo = git.Repo.init(self.path)
        if self.repo.bare:
            raise sqlite3.OperationalError(f"{self.path} is a bare repository; use a clone")
        self.git_dir = Path(self.repo.git_dir)
        self.state_dir = self.git_dir / STATE_DIR
        # Objects are written in-process (temp file + rename), not by `git hash-object
        # --literally`: a writer killed mid-call must not leave a truncated object behind.
        self.objects_dir = Path(self.repo.common_dir) / "objects"
        self.loose = LooseObjectDB(str(self.objects_dir))
        self._lock_fd: int | None = None

    def close(self) -> None:
        self.release()
        self.repo.close()

    # -- reading -----------------------------------------------------------------------------
    def head(self) -> str | None:
        """HEAD's commit id, or None on an unborn branch. Reads ref files only (no subprocess)."""
        try:
            return git.SymbolicReference.dereference_recursive(self.repo, "HEAD")
        except ValueError:
            return None

    def resolve(self, ref: str) -> str:
        """A commit id, tag or branch → commit id."""
        try:
            return self.repo.commit(ref).hexsha
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            raise sqlite3.OperationalError(
                f"OPTIONS['ref'] = {ref!r} names no commit in {self.path}: {exc}"
            ) from None

    def tree(self, commit: str | None) -> dict[str, Entry]:
        """Top-level entries of a commit's tree."""
        if commit is None:
            return {}
        try:
            entries = self._loose_tree(commit)
        except (ValueError, UnicodeDecodeError):  # not the layout we parse: let GitPython read it
            entries = None
        if entries is not None:
            return entries
        tree = self.repo.commit(commit).tree
        return {item.name: Entry(item.mode, item.binsha) for item in tree}

    def _loose_tree(self, commit: str) -> dict[str, Entry] | None:
        """The tree of a loose commit object, parsed in-process; None if either is packed."""
        raw = self._read_loose(bytes.fromhex(commit), b"commit")
        if raw is None or not raw.startswith(b"tree ") or raw[45:46] != b"\n":
            return None
        data = self._read_loose(bytes.fromhex(raw[5:45].decode("ascii")), b"tree")
        if data is None:
            return None
        entries: dict[str, Entry] = {}
        i, end = 0, len(data)
        while i < end:  # "<octal mode> <name>\0<20-byte id>" per entry
            space = data.index(b" ", i)
            nul = data.index(b"\0", space)
            binsha = data[nul + 1 : nul + 21]
            if len(binsha) != 20:
                raise ValueError("truncated tree entry")
            entries[data[space + 1 : nul].decode("utf-8")] = Entry(int(data[i:space], 8), binsha)
            i = nul + 21
        return entries

    def _read_loose(self, binsha: bytes, kind: bytes) -> bytes | None:
        """A loose object's content, read and inflated in this process (no `git cat-file`
        process to start per connection); None if it is packed or in an alternate store."""
        if len(binsha) != 20:
            return None
        hexsha = binsha.hex()
        try:
            with open(self.objects_dir / hexsha[:2] / hexsha[2:], "rb") as fh:
                data = zlib.decompress(fh.read())
        except (FileNotFoundError, NotADirectoryError, zlib.error):
            return None
        header, sep, body = data.partition(b"\0")
        kind_found, _, size = header.partition(b" ")
        if not sep or kind_found != kind or not size.isdigit() or int(size) != len(body):
            return None
        return body

    def read_blob(self, binsha: bytes) -> bytes:
        data = self._read_loose(binsha, b"blob")
        if data is not None:
            return data
        return self.repo.odb.stream(binsha).read()

    def unmerged_conflict(self) -> str | None:
        """If a merge is in progress, a message naming the first conflicted file and line."""
        if not (self.git_dir / "MERGE_HEAD").exists():
            return None
        unmerged = sorted(self.repo.index.unmerged_blobs())
        for name in unmerged:
            file = self.path / name
            try:
                for lineno, line in enumerate(file.read_text("utf-8").split("\n"), 1):
                    if line.startswith(("<<<<<<<", "=======", ">>>>>>>")):
                        return f"{name}:{lineno}: merge-conflict marker: {line[:60]!r}"
            except OSError:
                pass
        if unmerged:
            return f"{unmerged[0]}: unmerged path in an unfinished merge"
        return "a merge is in progress (MERGE_HEAD exists); commit or abort it first"

    # -- lock --------------------------------------------------------------------------------
    def acquire(self, timeout: float) -> None:
        """Take the inter-process write lock; LockTimeout after `timeout` seconds."""
        if self._lock_fd is not None:
            return
        self.state_dir.mkdir(exist_ok=True)
        fd = os.open(self.state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockTimeout(
                        f"database is locked: another process held the write lock of {self.path} "
                        f"for more than {timeout:g} s (OPTIONS['lock_timeout'])"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        self._lock_fd = fd
        try:
            self.recover()
        except BaseException:
            self.release()
            raise

    def try_acquire(self) -> bool:
        try:
            self.acquire(0)
        except LockTimeout:
            return False
        return True

    def release(self) -> None:
        if self._lock_fd is not None:
            fd, self._lock_fd = self._lock_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def locked(self) -> bool:
        return self._lock_fd is not None

    # -- crash recovery ----------------------------------------------------------------------
    @property
    def journal_path(self) -> Path:
        return self.state_dir / "journal.json"

    def recover(self) -> bool:
        """Under the lock: finish or undo the work-tree half of an interrupted write."""
        try:
            journal = json.loads(self.journal_path.read_text("utf-8"))
        except FileNotFoundError:
            return False
        except ValueError:  # the journal itself was cut short: nothing was touched after it
            self.journal_path.unlink()
            return True
        for lock in ("index.lock", "HEAD.lock"):
            (self.git_dir / lock).unlink(missing_ok=True)
        try:
            ref = self.repo.head.reference.path
            (self.git_dir / f"{ref}.lock").unlink(missing_ok=True)
        except TypeError:  # detached HEAD
            pass
        # Whether or not update-ref happened, HEAD is the truth: make these files match it.
        entries = self.tree(self.head())
        paths = journal["paths"]
        for name in paths:
            entry = entries.get(name)
            if entry is None:
                (self.path / name).unlink(missing_ok=True)
            else:
                self._write_file(name, self.read_blob(entry.binsha))
        self._refresh_index(paths, entries)
        self.journal_path.unlink()
        for tmp in self.path.glob(".*.jlg-tmp"):
            tmp.unlink(missing_ok=True)
        return True

    # -- writing -----------------------------------------------------------------------------
    def _store(self, kind: bytes, data: bytes) -> bytes:
        return self.loose.store(IStream(kind, len(data), io.BytesIO(data))).binsha

    def _write_file(self, name: str, data: bytes) -> None:
        # No fsync: the working tree is a checkout of HEAD that recover() can always redo; the
        # commit's durability is that of its git objects and ref.
        tmp = self.path / f".{name}.jlg-tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, self.path / name)

    def _refresh_index(self, paths: list[str], entries: dict[str, Entry]) -> None:
        """Point the index entries of `paths` at the new blobs, with the files' stat data.

        In-process through GitPython (no `git update-index` process per commit); extension
        data (cache-tree etc.) is dropped so git rebuilds it. Indexes GitPython cannot read
        (v4, split index) fall back to the git command.
        """
        try:
            index = git.IndexFile(self.repo)
            for name in paths:
                for stage in (0, 1, 2, 3):
                    index.entries.pop((name, stage), None)
                entry = entries.get(name)
                if entry is not None:
                    st = os.lstat(self.path / name)
                    index.entries[(name, 0)] = IndexEntry(
                        (
                            entry.mode,
                            entry.binsha,
                            0,
                            name,
                            pack(">LL", int(st.st_ctime) & _U32, st.st_ctime_ns % 10**9),
                            pack(">LL", int(st.st_mtime) & _U32, st.st_mtime_ns % 10**9),
                            st.st_dev & _U32,
                            st.st_ino & _U32,
                            st.st_uid,
                            st.st_gid,
                            st.st_size & _U32,
                        )
                    )
            index.write(ignore_extension_data=True)
        except (ValueError, AssertionError, NotImplementedError, IndexError, OSError):
            present = [p for p in paths if p in entries]
            gone = [p for p in paths if p not in entries]
            if present:
                self.repo.git.update_index("--add", "--info-only", "--", *present)
            if gone:
                self.repo.git.update_index("--force-remove", "--", *gone)

    def _update_head(self, new: str, base: str | None, message: str, who: git.Actor) -> None:
        """Move HEAD (or the branch it names) from `base` to `new`: compare-and-swap through
        git's own `<ref>.lock` + rename, plus the reflog lines `git update-ref` would write."""
        head_text = (self.git_dir / "HEAD").read_text().strip()
        ref = head_text[5:].strip() if head_text.startswith("ref:") else "HEAD"
        ref_dir = Path(self.repo.common_dir) if ref.startswith("refs/") else self.git_dir
        target = ref_dir / ref
        lock = ref_dir / f"{ref}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise sqlite3.OperationalError(
                f"{lock} exists: another git process is updating {ref}; retry"
            ) from None
        try:
            current = self.head()
            if current != base:
                raise sqlite3.OperationalError(
                    f"{ref} of {self.path} moved from {base} to {current} outside the lock "
                    "(a git command ran meanwhile); retry the transaction"
                )
            os.write(fd, f"{new}\n".encode())
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(lock, target)
        finally:
            if fd != -1:
                os.close(fd)
                lock.unlink(missing_ok=True)
        line = (
            f"{base or ZERO} {new} {who.name} <{who.email}> {_stamp()}\t"
            f"{message.splitlines()[0][:200] if message else ''}\n"
        )
        logs = [ref_dir / "logs" / ref] + (
            [self.git_dir / "logs" / "HEAD"] if ref != "HEAD" else []
        )
        for log in logs:
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(line)

    def check_clean(self, name: str, old: Entry | None) -> None:
        """Refuse to overwrite a working file that differs from HEAD (someone edited it)."""
        file = self.path / name
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            if old is None:
                return
            raise sqlite3.OperationalError(
                f"{file} is deleted in the working tree but not in HEAD; restore it "
                f"(git checkout -- {name}) or commit the deletion before writing"
            ) from None
        if old is None or blob_sha(data) != old.binsha:
            raise sqlite3.OperationalError(
                f"{file} has uncommitted changes; commit or discard them before writing "
                "through Django (the engines read HEAD, never the working tree)"
            )

    def commit(
        self,
        base: str | None,
        base_entries: dict[str, Entry],
        changes: dict[str, bytes | None],
        message: str,
        author: git.Actor,
        committer: git.Actor,
    ) -> tuple[str, dict[str, Entry]]:
        """Commit `changes` (name → content, None = delete) on top of `base`; returns HEAD."""
        assert self.locked, "commit() needs the write lock"
        if (self.git_dir / "MERGE_HEAD").exists():
            raise sqlite3.OperationalError(
                f"a merge is in progress in {self.path}; finish it (git commit) or abort it "
                "before writing through Django"
            )
        for name in changes:
            self.check_clean(name, base_entries.get(name))
        entries = dict(base_entries)
        for name, data in changes.items():
            if data is None:
                entries.pop(name, None)
            else:
                entries[name] = Entry(0o100644, self._store(b"blob", data))
        tree = b"".join(
            b"%o %s\0%s" % (e.mode, n.encode(), e.binsha)
            for n, e in sorted(
                entries.items(),
                key=lambda kv: kv[0].encode() + (b"/" if kv[1].mode == 0o040000 else b""),
            )
        )
        tree_sha = self._store(b"tree", tree).hex()
        stamp = _stamp()
        body = f"tree {tree_sha}\n"
        if base is not None:
            body += f"parent {base}\n"
        body += (
            f"author {author.name} <{author.email}> {stamp}\n"
            f"committer {committer.name} <{committer.email}> {stamp}\n\n{message.rstrip()}\n"
        )
        new = self._store(b"commit", body.encode("utf-8")).hex()
        self.state_dir.mkdir(exist_ok=True)
        journal = json.dumps({"base": base, "new": new, "paths": sorted(changes)})
        tmp = self.state_dir / "journal.json.tmp"
        tmp.write_text(journal, "utf-8")
        os.replace(tmp, self.journal_path)
        for name, data in changes.items():
            if data is None:
                (self.path / name).unlink(missing_ok=True)
            else:
                self._write_file(name, data)
        try:
            self._update_head(new, base, message, committer)
        except BaseException:
            self.recover()  # put the work tree back to HEAD
            raise
        self._refresh_index(sorted(changes), entries)
        self.journal_path.unlink()
        return new, entries


def _stamp() -> str:
    now = time.time()
    off = time.localtime(now).tm_gmtoff
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return f"{int(now)} {sign}{off // 3600:02d}{off % 3600 // 60:02d}"
