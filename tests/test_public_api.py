"""Plugins import only the core's public API: names a core module lists in `__all__`.

Why a test: "plugins never import each other; what two need belongs in the core, behind a small
public API". A plugin reaching for `evalscope.x._helper` (or a name the module does not export)
couples it to the core's internals, and the next refactor of the core breaks it in silence.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _plugin_sources() -> list[Path]:
    return [
        p
        for p in sorted((ROOT / "packages").glob("evalscope-*/src/**/*.py"))
        if "/evalscope-core/" not in str(p)
    ]


def _core_imports(paths: list[Path]) -> list[tuple[str, int, str, str]]:
    """(file, line, module, name) of every `evalscope...` import in `paths`."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "evalscope" or node.module.startswith("evalscope."):
                    for alias in node.names:
                        found.append((path.name, node.lineno, node.module, alias.name))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("evalscope."):
                        found.append((path.name, node.lineno, alias.name, ""))
    return found


def _violations(imports: list[tuple[str, int, str, str]]) -> list[str]:
    bad = []
    for where, line, module_name, name in imports:
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        if any(part.startswith("_") for part in module_name.split(".")):
            bad.append(f"{where}:{line}: private module {module_name}")
        elif exported is None:
            bad.append(f"{where}:{line}: {module_name} has no __all__ (not a public module)")
        elif name and name not in exported:
            submodule = (
                importlib.util.find_spec(f"{module_name}.{name}") if hasattr(module, "__path__") else None
            )
            if submodule is None or not hasattr(importlib.import_module(f"{module_name}.{name}"), "__all__"):
                bad.append(f"{where}:{line}: {module_name}.{name} is not in its __all__")
    return bad


def test_plugins_import_only_public_core_names() -> None:
    imports = _core_imports(_plugin_sources())
    assert len(imports) > 100, "the scan found the plugins' imports"
    bad = _violations(imports)
    assert bad == [], "\n".join(bad)


def test_a_private_import_is_caught(tmp_path: Path) -> None:
    """The check can fail: a private name, a name not exported and a private module are reported."""
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "from evalscope.run_context import _safe\n"
        "from evalscope.run_context import log\n"
        "from evalscope.run_context import RunInfo\n"
        "import evalscope.cli._private_thing\n",
        encoding="utf-8",
    )
    imports = _core_imports([plugin])
    found = [(module, name) for _, _, module, name in imports]
    assert ("evalscope.run_context", "_safe") in found
    bad = _violations([i for i in imports if not i[2].endswith("_private_thing")])
    assert len(bad) == 2 and "_safe" in bad[0] and ".log is not in" in bad[1]
