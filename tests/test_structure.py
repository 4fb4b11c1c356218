"""The shape of the code, read from its imports: channels at the edge, features without a platform,
and no import circle — counting every import, at module level, inside functions and for type checking."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "conversations", "storage")
MAY_IMPORT_TELEGRAM = ("bot.channels", "bot.application", "bot.cli", "bot.demo", "bot.simulator")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports anywhere in its text (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@functools.cache
def imports_of_all() -> dict[str, set[str]]:
    """Every module's imports, read when a test first asks: not at collection, which every test
    process of a parallel run goes through."""
    return {name: _imports(name, path) for name, path in MODULES.items()}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_features_import_no_chat_platform_and_no_channel() -> None:
    offenders = {
        name: sorted(i for i in imports if _within(i, ("telegram", "bot.channels")))
        for name, imports in imports_of_all().items()
        if _within(name, ("handlers", "conversations"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_only_the_edge_imports_python_telegram_bot() -> None:
    offenders = sorted(
        name
        for name, imports in imports_of_all().items()
        if any(_within(i, ("telegram",)) for i in imports) and not _within(name, MAY_IMPORT_TELEGRAM)
    )
    assert offenders == []
    assert not any(_within(i, ("telegram",)) for i in imports_of_all()["bot.channels.zalo"])
    assert not any(_within(i, ("telegram",)) for i in imports_of_all()["bot.channels.zalo_api"])


def test_there_is_no_import_circle() -> None:
    graph = {
        name: sorted(i for i in imports if i in MODULES and i != name)
        for name, imports in imports_of_all().items()
    }
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in graph[node]:
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name)
    assert circles == []
