"""A ward's data kept safe: consistent backups while the bot runs, checked restores, nightly rotation.

Copying a SQLite file while the bot writes (WAL mode) can give a corrupt copy, so SQLite is copied
with SQLite's online backup API (one step: a consistent snapshot that does not block the bot's
writers); PostgreSQL with `pg_dump -Fc` on a snapshot exported by the transaction that also reads the
manifest's figures, so the two agree.

The archive is a zip holding `manifest.json` and the database: `wardbot.sqlite3` (a standalone
SQLite file, journal mode DELETE, deflated) or `wardbot.pgdump` (a `pg_dump -Fc` archive, stored).
The manifest says what it is (format, format_version, engine), what is inside (member, size, sha256)
and what it holds (schema_version = the Alembic revision, created_at, source, counts of groups and
reports), so a restore can refuse a truncated or foreign file before it touches the live database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from bot.run_lock import (
    RunLockError,
    describe_database,
    hold_run_lock,
    is_postgres,
    is_sqlite,
    sqlite_path,
)

log = logging.getLogger(__name__)

FORMAT = "wardbot-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SQLITE = "sqlite"
POSTGRES = "postgresql"
MEMBERS = {SQLITE: "wardbot.sqlite3", POSTGRES: "wardbot.pgdump"}
STAMP = "%Y-%m-%d-%H%M%S"
NIGHTLY_NAME = re.compile(r"wardbot-nightly-(\d{4}-\d{2}-\d{2}-\d{6})\.zip")
MAX_MANIFEST_BYTES = 64 * 1024
COUNTED = {"groups": "residential_groups", "reports": "reports"}
BUSY_TIMEOUT_SECONDS = 10.0
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024

# Run by psql in the restore's transaction before the dump's own SQL: drop every table, view,
# sequence and type of the schema, so tables of a newer schema than the backup's do not stay behind
# (the migrations that follow would fail on them). Extension objects are left alone.
PG_CLEAR_SCHEMA = """
DO $wardbot$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT format('%I.%I', n.nspname, c.relname) AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                   WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()
          AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY c.relkind = 'S'
    LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE', item.kind, item.name);
    END LOOP;
    FOR item IN
        SELECT format('%I.%I', n.nspname, t.typname) AS name
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = current_schema()
          AND t.typtype IN ('e', 'd', 'r')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                          AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', item.name);
    END LOOP;
END
$wardbot$;
"""


class BackupError(Exception):
    """A backup or restore that failed; `str()` is one line for people."""


class BackupRefused(BackupError):
    """Something the person can fix: a wrong or damaged file, a missing tool, a missing database."""


class RestoreDeclined(BackupError):
    """The person answered no to the confirmation; nothing changed."""


@dataclass(frozen=True, slots=True)
class DatabaseState:
    """What a database holds, as far as a person cares."""

    schema_version: str | None
    groups: int
    reports: int
    has_tables: bool

    def describe(self) -> str:
        """'schema 0007, 12 groups, 340 reports'."""
        return f"schema {self.schema_version or 'none'}, {self.groups} groups, {self.reports} reports"


@dataclass(frozen=True, slots=True)
class Manifest:
    """`manifest.json`: what the archive is and what it holds."""

    engine: str
    member: str
    size: int
    sha256: str
    schema_version: str
    created_at: datetime
    groups: int
    reports: int
    source: str
    format_version: int = FORMAT_VERSION
    wardbot_version: str = ""

    def to_json(self) -> bytes:
        """The manifest as written into the archive."""
        data = {
            "format": FORMAT,
            "format_version": self.format_version,
            "engine": self.engine,
            "member": self.member,
            "size": self.size,
            "sha256": self.sha256,
            "schema_version": self.schema_version,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "source": self.source,
            "counts": {"groups": self.groups, "reports": self.reports},
            "wardbot_version": self.wardbot_version,
        }
        return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, raw: bytes, archive: Path) -> Manifest:
        """Parse and check a manifest; anything unexpected is `BackupRefused` naming the archive."""
        foreign = BackupRefused(f"{archive}: not a wardbot backup (its manifest.json is not ours)")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise foreign from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise foreign
        format_version = data.get("format_version")
        if not isinstance(format_version, int) or format_version < 1:
            raise foreign
        if format_version > FORMAT_VERSION:
            raise BackupRefused(
                f"{archive}: made by a newer wardbot (backup format {format_version}); "
                "update wardbot, then restore"
            )
        try:
            engine, member = str(data["engine"]), str(data["member"])
            counts = data["counts"]
            manifest = cls(
                engine=engine,
                member=member,
                size=_whole(data["size"]),
                sha256=str(data["sha256"]),
                schema_version=str(data["schema_version"]),
                created_at=datetime.fromisoformat(str(data["created_at"])),
                groups=_whole(counts["groups"]),
                reports=_whole(counts["reports"]),
                source=str(data.get("source", "")),
                format_version=format_version,
                wardbot_version=str(data.get("wardbot_version", "")),
            )
        except (KeyError, TypeError, ValueError):
            raise foreign from None
        if MEMBERS.get(engine) != member or manifest.created_at.tzinfo is None:
            raise foreign
        return manifest

    @property
    def made(self) -> str:
        """When the backup was made, in this computer's local time."""
        return self.created_at.astimezone().strftime("%Y-%m-%d %H:%M")

    @property
    def state(self) -> DatabaseState:
        """The figures the manifest promises."""
        return DatabaseState(self.schema_version, self.groups, self.reports, has_tables=True)


@dataclass(frozen=True, slots=True)
class Backup:
    """A written backup archive."""

    path: Path
    size: int
    manifest: Manifest

    def summary(self) -> str:
        """The one line `wardbot backup` prints."""
        m = self.manifest
        return (
            f"Backup written to {self.path} ({human_size(self.size)}): {m.state.describe()} "
            f"({'SQLite' if m.engine == SQLITE else 'PostgreSQL'} database {m.source})."
        )


@dataclass(frozen=True, slots=True)
class RestorePlan:
    """What a restore is about to do, for the confirmation question."""

    archive: Path
    manifest: Manifest
    target: str
    current: DatabaseState | None
    kept_aside: Path | None
    head: str

    def describe(self) -> list[str]:
        """A few lines for the person who has to answer yes or no."""
        m = self.manifest
        lines = [f"Backup: {self.archive}, made {m.made} from {m.source}: {m.state.describe()}."]
        if self.current is None:
            lines.append(f"Restore into: {self.target} (there is no database there yet).")
        else:
            lines.append(f"This REPLACES: {self.target} ({self.current.describe()}).")
        if self.kept_aside is not None:
            lines.append(f"The current database is kept in: {self.kept_aside}")
        if m.schema_version != self.head:
            lines.append(f"After restoring, the database is migrated to schema {self.head}.")
        return lines


@dataclass(frozen=True, slots=True)
class Restored:
    """The outcome of a restore."""

    archive: Path
    manifest: Manifest
    schema_before: str
    state: DatabaseState
    kept_aside: Path | None

    def summary(self) -> str:
        """The one line `wardbot restore` prints."""
        kept = (
            f"the previous database is kept in {self.kept_aside}"
            if self.kept_aside is not None
            else "there was no database before"
        )
        return (
            f"Restored {self.archive.name} (backup of {self.manifest.made}): schema {self.schema_before} → "
            f"{self.state.schema_version}, {self.state.groups} groups, {self.state.reports} reports; {kept}."
        )


def human_size(size: int) -> str:
    """1234567 → '1.2 MB'."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def backup_file_name(now: datetime) -> str:
    """`wardbot-YYYY-MM-DD-HHMMSS.zip`, in `now`'s own wall-clock time."""
    return f"wardbot-{now.strftime(STAMP)}.zip"


def nightly_file_name(now: datetime) -> str:
    """`wardbot-nightly-YYYY-MM-DD-HHMMSS.zip`: only these are ever removed by `nightly_backup`."""
    return f"wardbot-nightly-{now.strftime(STAMP)}.zip"


def _whole(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(value)
    return value


def _wardbot_version() -> str:
    try:
        return version("wardbot")
    except PackageNotFoundError:
        return ""


def _url(database_url: str) -> URL:
    url = make_url(database_url)
    if not (is_sqlite(url) or is_postgres(url)):
        raise BackupRefused(
            f"DATABASE_URL: backups support SQLite and PostgreSQL, not {url.get_backend_name()}"
        )
    return url


def _engine_name(url: URL) -> str:
    return SQLITE if is_sqlite(url) else POSTGRES


def _reason(error: BaseException) -> str:
    """The underlying message on one line (SQLAlchemy's wrapper adds SQL and links)."""
    original = getattr(error, "orig", None) or error
    return " ".join(str(original).split()) or type(original).__name__


def _read_state(tables: set[str], scalar: Callable[[str], Any]) -> DatabaseState:
    version = scalar("SELECT version_num FROM alembic_version") if "alembic_version" in tables else None
    counts = {
        key: int(scalar(f"SELECT count(*) FROM {table}")) if table in tables else 0
        for key, table in COUNTED.items()
    }
    return DatabaseState(
        None if version is None else str(version), counts["groups"], counts["reports"], bool(tables)
    )


def _sqlite_state(connection: sqlite3.Connection) -> DatabaseState:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return _read_state(tables, lambda sql: (connection.execute(sql).fetchone() or (None,))[0])


def _sa_state(connection: Connection) -> DatabaseState:
    tables = set(inspect(connection).get_table_names())
    return _read_state(tables, lambda sql: connection.execute(text(sql)).scalar())


async def database_state(database_url: str) -> DatabaseState:
    """Schema version and counts of a live database (through the app's own driver)."""
    engine = create_async_engine(make_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_sa_state)
    except (SQLAlchemyError, OSError) as error:
        raise BackupError(f"cannot read {describe_database(database_url)}: {_reason(error)}") from None
    finally:
        await engine.dispose()


def _connect_existing(path: Path) -> sqlite3.Connection:
    """Open a SQLite file that must exist (a plain connect would create an empty one)."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    return connection


def _integrity_problem(connection: sqlite3.Connection) -> str | None:
    rows = [str(row[0]) for row in connection.execute("PRAGMA integrity_check").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _sqlite_snapshot(source: Path, target: Path) -> DatabaseState:
    """Copy `source` into `target` in one backup step (consistent; the bot's writers go on meanwhile)."""
    try:
        live = _connect_existing(source)
    except sqlite3.Error as error:
        raise BackupError(f"cannot open {source}: {error}") from None
    try:
        with contextlib.closing(live), contextlib.closing(sqlite3.connect(target)) as copy:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, readable from read-only media
            problem = _integrity_problem(copy)
            if problem is not None:
                raise BackupError(
                    f"{source} is damaged ({problem}); no backup was written. Keep your older backups "
                    "and restore the newest good one"
                )
            return _sqlite_state(copy)
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source}: {error}") from None


def _file_digest(path: Path) -> tuple[int, str]:
    with path.open("rb") as stream:
        return os.fstat(stream.fileno()).st_size, hashlib.file_digest(stream, "sha256").hexdigest()


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _new_file(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file with a unique name, with the same permissions as any file made here (umask)."""
    while True:
        path = folder / f"{prefix}.{secrets.token_hex(4)}{suffix}"
        try:
            path.open("xb").close()
            return path
        except FileExistsError:
            continue


@contextlib.contextmanager
def _partial_file(out: Path) -> Iterator[Path]:
    """A temporary file next to `out`, renamed to `out` only when the block succeeds."""
    partial = _new_file(out.parent, f".{out.name}", ".partial")
    try:
        yield partial
        with partial.open("rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(partial, out)
        _fsync_folder(out.parent)
    finally:
        partial.unlink(missing_ok=True)


def _write_archive(
    out: Path, member_file: Path, engine: str, state: DatabaseState, source: str, created_at: datetime
) -> Backup:
    """Zip the database with its manifest into `out` (atomically: a partial file, then a rename)."""
    assert state.schema_version is not None
    size, sha256 = _file_digest(member_file)
    manifest = Manifest(
        engine=engine,
        member=MEMBERS[engine],
        size=size,
        sha256=sha256,
        schema_version=state.schema_version,
        created_at=created_at.astimezone(UTC),
        groups=state.groups,
        reports=state.reports,
        source=source,
        wardbot_version=_wardbot_version(),
    )
    compression = zipfile.ZIP_DEFLATED if engine == SQLITE else zipfile.ZIP_STORED  # -Fc is compressed
    with _partial_file(out) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, manifest.to_json())
        archive.write(member_file, manifest.member, compress_type=compression)
    return Backup(out, out.stat().st_size, manifest)


def _no_schema(database_url: str) -> BackupRefused:
    return BackupRefused(
        f"{describe_database(database_url)} has no wardbot tables yet (start the bot once, or run "
        "`wardbot db upgrade`); nothing to back up"
    )


def _backup_sqlite(database_url: str, url: URL, out: Path, created_at: datetime) -> Backup:
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupRefused(f"no database at {source} (DATABASE_URL); nothing to back up")
    with tempfile.TemporaryDirectory(prefix="wardbot-backup-") as folder:
        copy = Path(folder) / MEMBERS[SQLITE]
        state = _sqlite_snapshot(source, copy)
        if state.schema_version is None:
            raise _no_schema(database_url)
        return _write_archive(out, copy, SQLITE, state, source.name, created_at)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _pg_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore / psql; the password only in PGPASSWORD."""
    options: list[str] = []
    if url.host:
        options.append(f"--host={url.host}")
    if url.port:
        options.append(f"--port={url.port}")
    if url.username:
        options.append(f"--username={url.username}")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str) and ssl not in ("true", "false"):
        env["PGSSLMODE"] = ssl
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return options, env


def _tool(name: str, server_major: int | None) -> str:
    """The path of a PostgreSQL client tool, or one line saying what to install."""
    found = shutil.which(name)
    if found is None:
        package = f"postgresql-client-{server_major}" if server_major else "postgresql-client"
        raise BackupRefused(
            f"{name} is not installed; install the PostgreSQL client tools with: sudo apt install {package}"
        )
    return found


async def _run_tool(argv: list[str], env: dict[str, str]) -> str:
    """Run a client tool; its last error line becomes the failure's one line."""
    shown = [arg if len(arg) < 200 else f"{arg[:20]}…" for arg in argv]
    log.debug("running %s", " ".join(shown))  # no password here: it travels in PGPASSWORD
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        detail = lines[-1] if lines else f"exit status {process.returncode}"
        raise BackupError(f"{Path(argv[0]).name} failed: {detail}")
    return stdout.decode("utf-8", "replace")


async def _server_major(connection: AsyncConnection) -> int:
    number = (await connection.execute(text("SHOW server_version_num"))).scalar_one()
    return int(number) // 10000


async def _backup_postgres(database_url: str, url: URL, out: Path, created_at: datetime) -> Backup:
    options, env = _pg_arguments(url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        with tempfile.TemporaryDirectory(prefix="wardbot-backup-") as folder:
            dump = Path(folder) / MEMBERS[POSTGRES]
            try:
                connection = await engine.connect()
            except (SQLAlchemyError, OSError) as error:
                raise BackupError(
                    f"cannot connect to {describe_database(database_url)}: {_reason(error)}"
                ) from None
            try:
                # One REPEATABLE READ transaction exports its snapshot to pg_dump and reads the
                # manifest's figures, so the dump and the manifest describe the same instant.
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
                async with connection.begin():
                    pg_dump = _tool("pg_dump", await _server_major(connection))
                    snapshot = (await connection.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                    state = await connection.run_sync(_sa_state)
                    if state.schema_version is None:
                        raise _no_schema(database_url)
                    await _run_tool(
                        [
                            pg_dump,
                            "--format=custom",
                            f"--snapshot={snapshot}",
                            f"--file={dump}",
                            *options,
                            f"--dbname={url.database}",
                        ],
                        env,
                    )
            except SQLAlchemyError as error:
                raise BackupError(
                    f"cannot read {describe_database(database_url)}: {_reason(error)}"
                ) from None
            finally:
                await connection.close()
            return await asyncio.to_thread(
                _write_archive, out, dump, POSTGRES, state, url.database or "", created_at
            )
    finally:
        await engine.dispose()


# --- backup --------------------------------------------------------------------------------------


def _destination(out: Path | None, now: datetime) -> Path:
    if out is None:
        out = Path.cwd()
    if out.is_dir():
        out = out / backup_file_name(now)
    if out.exists():
        raise BackupRefused(f"{out} already exists; choose another name or move it away")
    if not out.parent.is_dir():
        raise BackupRefused(f"{out.parent} is not a folder; create it first or choose another --out")
    return out


async def backup_database(
    database_url: str, out: Path | None = None, *, now: datetime | None = None
) -> Backup:
    """Write a consistent backup archive of `database_url` while the bot may be running.

    `out` is a file, a folder (the file is named `wardbot-YYYY-MM-DD-HHMMSS.zip` inside it) or None
    (that name in the working folder). An existing file is never overwritten. `now` (default: this
    computer's local time) names the file and is recorded as `created_at`.
    """
    url = _url(database_url)
    moment = now or datetime.now().astimezone()
    target = _destination(out, moment)
    try:
        if is_sqlite(url):
            made = await asyncio.to_thread(_backup_sqlite, database_url, url, target, moment)
        else:
            made = await _backup_postgres(database_url, url, target, moment)
    except RunLockError as error:
        raise BackupRefused(str(error)) from None
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror or error}") from None
    log.info("backup written to %s (%s)", made.path, made.manifest.state.describe())
    return made


# --- restore -------------------------------------------------------------------------------------


def _migrations() -> tuple[set[str], str]:
    """The schema versions this wardbot knows, and the newest."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return {revision.revision for revision in script.walk_revisions()}, head


def _open_archive(archive: Path) -> tuple[zipfile.ZipFile, Manifest]:
    """Open and check an archive's structure and manifest, or refuse in one line."""
    if not archive.is_file():
        raise BackupRefused(f"{archive}: file not found")
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError):
        with archive.open("rb") as stream:
            start = stream.read(len(ZIP_MAGIC))
        if start == ZIP_MAGIC:
            raise BackupRefused(
                f"{archive}: the file is incomplete or damaged (cut short while copying?); "
                "nothing changed. Use another copy of the backup"
            ) from None
        raise BackupRefused(f"{archive}: not a wardbot backup (not a zip archive); nothing changed") from None
    try:
        try:
            info = opened.getinfo(MANIFEST_NAME)
        except KeyError:
            raise BackupRefused(
                f"{archive}: not a wardbot backup (no manifest.json inside); nothing changed"
            ) from None
        if info.file_size > MAX_MANIFEST_BYTES:
            raise BackupRefused(f"{archive}: not a wardbot backup (its manifest.json is not ours)")
        manifest = Manifest.from_json(opened.read(MANIFEST_NAME), archive)
        try:
            member = opened.getinfo(manifest.member)
        except KeyError:
            raise BackupRefused(
                f"{archive}: incomplete: {manifest.member} is missing; nothing changed"
            ) from None
        if member.file_size != manifest.size:
            raise BackupRefused(f"{archive}: damaged: {manifest.member} has the wrong size; nothing changed")
        known, head = _migrations()
        if manifest.schema_version not in known:
            raise BackupRefused(
                f"{archive}: made by a newer wardbot (schema {manifest.schema_version}; this one knows up "
                f"to {head}); update wardbot, then restore"
            )
    except (zipfile.BadZipFile, OSError) as error:
        opened.close()
        raise BackupRefused(f"{archive}: the file is damaged ({error}); nothing changed") from None
    except BaseException:
        opened.close()
        raise
    return opened, manifest


def _extract(opened: zipfile.ZipFile, manifest: Manifest, archive: Path, destination: Path) -> None:
    """Copy the database out of the archive, checking its CRC, size and sha256."""
    digest = hashlib.sha256()
    size = 0
    try:
        with opened.open(manifest.member) as source, destination.open("wb") as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise BackupRefused(f"{archive}: the file is damaged ({error}); nothing changed") from None
    except OSError as error:
        raise BackupError(f"cannot extract {archive} into {destination}: {error.strerror or error}") from None
    if size != manifest.size or digest.hexdigest() != manifest.sha256:
        raise BackupRefused(f"{archive}: the file is damaged (checksum mismatch); nothing changed")


def _check_sqlite_copy(copy: Path, manifest: Manifest, archive: Path) -> None:
    """PRAGMA integrity_check, and the schema version and counts the manifest promises."""
    try:
        with contextlib.closing(_connect_existing(copy)) as connection:
            problem = _integrity_problem(connection)
            state = _sqlite_state(connection) if problem is None else None
    except sqlite3.Error as error:
        raise BackupRefused(f"{archive}: the database inside is damaged ({error}); nothing changed") from None
    if problem is not None:
        raise BackupRefused(f"{archive}: the database inside is damaged ({problem}); nothing changed")
    if state != manifest.state:
        raise BackupRefused(f"{archive}: the database inside does not match its manifest; nothing changed")


def _aside_name(folder: Path, name: str, moment: datetime, suffix: str = "") -> Path:
    """`<name>.before-restore-<stamp><suffix>` in `folder`, never an existing file."""
    base = f"{name}.before-restore-{moment.strftime(STAMP)}"
    candidate, number = folder / f"{base}{suffix}", 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{base}-{number}{suffix}"
    return candidate


def _sqlite_sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _keep_sqlite_aside(live: Path, aside: Path) -> None:
    """A self-contained copy of the live database (its WAL included); raw files if it is damaged."""
    try:
        with (
            contextlib.closing(_connect_existing(live)) as source,
            contextlib.closing(sqlite3.connect(aside)) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error:
        log.warning("%s does not read as a database; keeping its files as they are", live)
        aside.unlink(missing_ok=True)
        shutil.copy2(live, aside)
        for sidecar in _sqlite_sidecars(live):
            if sidecar.exists() and not sidecar.name.endswith("-shm"):
                shutil.copy2(sidecar, aside.with_name(aside.name + sidecar.name[len(live.name) :]))


def _swap_in(new: Path, live: Path) -> None:
    """Replace the live file atomically; stale -wal/-shm/-journal files would corrupt the new one."""
    if live.exists():
        with contextlib.suppress(sqlite3.Error), contextlib.closing(_connect_existing(live)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _same_owner_and_mode(new, live)
    for sidecar in _sqlite_sidecars(live):
        sidecar.unlink(missing_ok=True)
    os.replace(new, live)
    _fsync_folder(live.parent)


def _same_owner_and_mode(new: Path, live: Path) -> None:
    """`sudo wardbot restore` must not leave a file the bot's own user cannot write."""
    status = live.stat()
    with contextlib.suppress(OSError):
        os.chown(new, status.st_uid, status.st_gid)
    with contextlib.suppress(OSError):
        os.chmod(new, status.st_mode & 0o7777)


def _sqlite_current(live: Path) -> DatabaseState | None:
    if not live.exists():
        return None
    try:
        with contextlib.closing(_connect_existing(live)) as connection:
            return _sqlite_state(connection)
    except sqlite3.Error:
        return DatabaseState(None, 0, 0, has_tables=True)


async def _migrate(database_url: str) -> DatabaseState:
    """Bring the restored database to the newest schema, as `wardbot run` would."""
    from storage.engine import create_engine
    from storage.migrate import upgrade

    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            return await connection.run_sync(_sa_state)
    finally:
        await engine.dispose()


Confirm = Callable[[RestorePlan], bool]


async def _ask(confirm: Confirm | None, plan: RestorePlan) -> None:
    if confirm is not None and not await asyncio.to_thread(confirm, plan):
        raise RestoreDeclined("restore cancelled; nothing changed")


async def _restore_sqlite(
    database_url: str,
    url: URL,
    archive: Path,
    opened: zipfile.ZipFile,
    manifest: Manifest,
    confirm: Confirm | None,
    moment: datetime,
    head: str,
) -> Restored:
    live = sqlite_path(url)
    live.parent.mkdir(parents=True, exist_ok=True)
    copy = _new_file(live.parent, f".{live.name}", ".restoring")
    try:
        await asyncio.to_thread(_extract, opened, manifest, archive, copy)
        await asyncio.to_thread(_check_sqlite_copy, copy, manifest, archive)
        async with hold_run_lock(database_url):
            current = await asyncio.to_thread(_sqlite_current, live)
            aside = _aside_name(live.parent, live.name, moment) if current is not None else None
            await _ask(confirm, RestorePlan(archive, manifest, str(live), current, aside, head))
            if aside is not None:
                await asyncio.to_thread(_keep_sqlite_aside, live, aside)
            await asyncio.to_thread(_swap_in, copy, live)
            log.info("restored %s into %s (previous database kept in %s)", archive, live, aside)
            state = await _migrated(database_url, aside)
    finally:
        await asyncio.to_thread(copy.unlink, missing_ok=True)
    return Restored(archive, manifest, manifest.schema_version, state, aside)


async def _migrated(database_url: str, aside: Path | None) -> DatabaseState:
    try:
        return await _migrate(database_url)
    except (SQLAlchemyError, OSError) as error:
        kept = f"; the previous database is kept in {aside}" if aside is not None else ""
        raise BackupError(
            f"restored, but migrating to the current schema failed: {_reason(error)}{kept}"
        ) from None


async def _restore_postgres(
    database_url: str,
    url: URL,
    archive: Path,
    opened: zipfile.ZipFile,
    manifest: Manifest,
    confirm: Confirm | None,
    moment: datetime,
    head: str,
    keep_dir: Path,
) -> Restored:
    options, env = _pg_arguments(url)
    target = describe_database(database_url)
    with tempfile.TemporaryDirectory(prefix="wardbot-restore-") as folder:
        dump, script = Path(folder) / MEMBERS[POSTGRES], Path(folder) / "restore.sql"
        await asyncio.to_thread(_extract, opened, manifest, archive, dump)
        async with hold_run_lock(database_url):
            current = await database_state(database_url)
            major = await _pg_major(database_url)
            pg_restore, psql = _tool("pg_restore", major), _tool("psql", major)
            try:
                await _run_tool([pg_restore, "--list", str(dump)], env)
            except BackupError:
                raise BackupRefused(
                    f"{archive}: the database dump inside is damaged (pg_restore cannot read it); "
                    "nothing changed"
                ) from None
            if current.has_tables and current.schema_version is None:
                raise BackupRefused(
                    f"{target} holds tables that are not wardbot's; restore into an empty database "
                    "or a wardbot one (check DATABASE_URL)"
                )
            aside = None
            if current.has_tables:
                aside = _aside_name(keep_dir, url.database or "wardbot", moment, ".zip")
            await _ask(
                confirm,
                RestorePlan(archive, manifest, target, current if current.has_tables else None, aside, head),
            )
            if aside is not None:
                await backup_database(database_url, aside, now=moment)
            await _run_tool(
                [
                    pg_restore,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={script}",
                    str(dump),
                ],
                env,
            )
            # One transaction: clear the schema, load the dump; any error rolls all of it back.
            await _run_tool(
                [
                    psql,
                    "--no-psqlrc",
                    "--quiet",
                    "--set=ON_ERROR_STOP=1",
                    "--single-transaction",
                    f"--command={PG_CLEAR_SCHEMA}",
                    f"--file={script}",
                    *options,
                    f"--dbname={url.database}",
                ],
                env,
            )
            log.info("restored %s into %s (previous database kept in %s)", archive, target, aside)
            state = await _migrated(database_url, aside)
    return Restored(archive, manifest, manifest.schema_version, state, aside)


async def _pg_major(database_url: str) -> int | None:
    engine = create_async_engine(make_url(database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await _server_major(connection)
    except (SQLAlchemyError, OSError):
        return None
    finally:
        await engine.dispose()


async def restore_database(
    database_url: str,
    archive: Path,
    *,
    confirm: Confirm | None = None,
    now: datetime | None = None,
    keep_dir: Path | None = None,
) -> Restored:
    """Replace the database of `database_url` with a backup archive, then migrate it to the newest schema.

    Checks the archive first (zip, manifest, checksum; for SQLite `PRAGMA integrity_check` on the
    extracted copy) and refuses with `BackupRefused` before anything changes. Then takes the run lock
    (`RunLockBusy` while a bot runs), asks `confirm(plan)` (None: no question), keeps the current
    database aside (SQLite: `<db>.before-restore-<stamp>` next to it; PostgreSQL: a backup archive
    `<dbname>.before-restore-<stamp>.zip` in `keep_dir`, default the working folder), restores and
    migrates. `RestoreDeclined` when `confirm` says no.
    """
    url = _url(database_url)
    moment = now or datetime.now().astimezone()
    _, head = _migrations()
    opened, manifest = await asyncio.to_thread(_open_archive, archive)
    with opened:
        if manifest.engine != _engine_name(url):
            kinds = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}
            raise BackupRefused(
                f"{archive} is a {kinds[manifest.engine]} backup but DATABASE_URL is a "
                f"{kinds[_engine_name(url)]} database; nothing changed"
            )
        try:
            if is_sqlite(url):
                restored = await _restore_sqlite(
                    database_url, url, archive, opened, manifest, confirm, moment, head
                )
            else:
                restored = await _restore_postgres(
                    database_url,
                    url,
                    archive,
                    opened,
                    manifest,
                    confirm,
                    moment,
                    head,
                    keep_dir or Path.cwd(),
                )
        except OSError as error:
            raise BackupError(f"restore failed: {error.strerror or error}") from None
    log.info("restore done: %s", restored.summary())
    return restored


# --- nightly -------------------------------------------------------------------------------------


def _prune(backup_dir: Path, keep: Path, cutoff: datetime) -> list[Path]:
    removed = []
    for path in backup_dir.iterdir():
        match = NIGHTLY_NAME.fullmatch(path.name)
        if match is None or path == keep or not path.is_file():
            continue
        try:
            made = datetime.strptime(match.group(1), STAMP)
        except ValueError:
            continue
        if made < cutoff:
            path.unlink()
            removed.append(path)
    return removed


async def nightly_backup(database_url: str, backup_dir: Path, keep_days: int, now: datetime) -> Path:
    """Write `wardbot-nightly-<stamp>.zip` into `backup_dir`, then remove nightly backups older than
    `keep_days` (by the date in their names; no other file is touched). Returns the new file.

    Raises `BackupError` (one line, for the staff chat) when anything fails; old backups are only
    removed after a new one was written, so failing nights never eat the last good backup.
    """
    if keep_days < 0:
        raise ValueError("keep_days must be 0 or more")
    try:
        await asyncio.to_thread(backup_dir.mkdir, parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(
            f"cannot create the backup folder {backup_dir}: {error.strerror or error}"
        ) from None
    made = await backup_database(database_url, backup_dir / nightly_file_name(now), now=now)
    cutoff = now.replace(tzinfo=None) - timedelta(days=keep_days)
    try:
        removed = await asyncio.to_thread(_prune, backup_dir, made.path, cutoff)
    except OSError as error:
        raise BackupError(
            f"backup written to {made.path}, but old backups could not be removed: {error.strerror or error}"
        ) from None
    if removed:
        log.info("removed %d nightly backups older than %d days", len(removed), keep_days)
    return made.path


__all__ = [
    "Backup",
    "BackupError",
    "BackupRefused",
    "DatabaseState",
    "Manifest",
    "RestoreDeclined",
    "RestorePlan",
    "Restored",
    "backup_database",
    "backup_file_name",
    "database_state",
    "nightly_backup",
    "nightly_file_name",
    "restore_database",
]
