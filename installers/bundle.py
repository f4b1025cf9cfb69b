"""What goes into the frozen bundle: hidden imports, data files, the Qt trim, version info.

`installers/tailbox.spec` is built from these; `tests/installers` checks them without a
build. Nothing here imports PyInstaller, so the tests run without it installed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from agent.registry import _read_sections

__all__ = [
    "APP_NAME",
    "EXCLUDED_MODULES",
    "PLUGINS_YML",
    "ROOT",
    "TocEntry",
    "data_files",
    "hidden_imports",
    "keep_qt_file",
    "plugin_modules",
    "project_version",
    "prune_unreachable",
    "trim_qt",
    "windows_version",
    "write_version_file",
]

ROOT = Path(__file__).resolve().parent.parent
PLUGINS_YML = ROOT / "plugins.yml"
APP_NAME = "Tailbox"

# PyInstaller's hooks collect QtNetwork (and its TLS and network-information plugins)
# because PySide6 lists it; Tailbox speaks HTTP through urllib3, never through Qt.
EXCLUDED_MODULES = ["tkinter", "PySide6.QtNetwork"]

# A TOC entry as PyInstaller keeps them: (name in the bundle, source path, type code).
TocEntry = tuple[str, str, str]

# Qt plugin folders Tailbox needs none of: embedded-Linux input and display back-ends,
# OpenGL integrations (the window draws with the raster engine), networking.
_DROPPED_PLUGIN_TYPES = frozenset(
    {
        "egldeviceintegrations",
        "generic",
        "xcbglintegrations",
        "networkinformation",
        "tls",
        "qmltooling",
        "sqldrivers",
    }
)
# Plugin folders of which only these plugins stay (names without lib prefix / suffix).
_KEPT_PLUGINS = {
    # The desktop back-ends, plus offscreen for `--smoke-test` where there is no display.
    "platforms": frozenset({"qxcb", "qwayland", "qoffscreen", "qwindows"}),
    # qgtk3 would drag in cairo, pango and gdk-pixbuf from the build machine to run
    # against the user's own libgtk-3: a mix that breaks on symbol versions. The portal
    # theme still follows the desktop's colour scheme and file dialogs.
    "platformthemes": frozenset({"qxdgdesktopportal"}),
    "imageformats": frozenset({"qsvg"}),
    "iconengines": frozenset({"qsvgicon"}),
    "wayland-shell-integration": frozenset({"xdg-shell"}),
    # Raster windows hand Wayland shared-memory buffers; no EGL/Vulkan client needed.
    "wayland-graphics-integration-client": frozenset(),
}
# Qt libraries nothing in Tailbox loads once the plugins above are gone.
_DROPPED_LIBRARY_PARTS = ("qt6qml", "qt6quick", "virtualkeyboard", "qt6pdf", "opengl32sw")


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def windows_version(version: str) -> str:
    """`0.1.0` as Windows version resources want it: four numbers (`0.1.0.0`)."""
    match = re.match(r"\d+(?:\.\d+){0,3}", version)
    if match is None:
        raise ValueError(f"version {version!r} does not start with a number")
    numbers = match.group().split(".")
    return ".".join(numbers + ["0"] * (4 - len(numbers)))


def plugin_modules(path: Path = PLUGINS_YML) -> list[str]:
    """Every plugin module plugins.yml names, in all sections, read as the registry reads it."""
    sections = _read_sections(path)
    return list(dict.fromkeys(module for modules in sections.values() for module in modules))


def hidden_imports(path: Path = PLUGINS_YML) -> list[str]:
    """The modules PyInstaller must bundle although no `import` statement names them.

    The registry imports plugins by the names in plugins.yml, which static analysis
    cannot follow; a plugin's own imports (its `_reader` and friends) it does follow.
    """
    return plugin_modules(path)


def _plugin_data(module: str) -> list[tuple[str, str]]:
    package = ROOT.joinpath(*module.split("."))
    if not package.is_dir():
        return []
    return [
        (str(file), str(PurePosixPath(*module.split("."), *file.relative_to(package).parts[:-1])))
        for file in sorted(package.rglob("*"))
        if file.is_file() and file.suffix not in (".py", ".pyc") and "__pycache__" not in file.parts
    ]


def data_files(path: Path = PLUGINS_YML) -> list[tuple[str, str]]:
    """(source, folder in the bundle) pairs: plugins.yml, the default pipelines, plugin data.

    plugins.yml goes to the bundle's root, where `agent.registry.plugins_yml_path()`
    looks first when frozen; `agent/defaults/*.yml` stays where importlib.resources
    finds it; each plugin's README.md, sample.yml and other files stay in its folder.
    """
    datas = [(str(path), ".")]
    datas += [
        (str(f), "agent/defaults") for f in sorted((ROOT / "agent" / "defaults").glob("*.yml"))
    ]
    for module in plugin_modules(path):
        datas += _plugin_data(module)
    return datas


def _qt_part(name: str) -> PurePosixPath | None:
    """A bundle path relative to PySide6's Qt tree (`plugins/...`, `lib/...`), else None."""
    parts = PurePosixPath(name.replace("\\", "/").lower()).parts
    if not parts or parts[0] != "pyside6":
        return None
    rest = parts[1:]
    if rest[:1] == ("qt",):  # Linux and macOS wheels: PySide6/Qt/{lib,plugins,...}
        rest = rest[1:]
    return PurePosixPath(*rest) if rest else None


def keep_qt_file(name: str) -> bool:
    """Whether the bundle file `name` survives the Qt trim (files outside PySide6 always do)."""
    part = _qt_part(name)
    if part is None:
        return True
    if part.parts[0] in ("translations", "qml"):
        return False
    if any(p in part.name for p in _DROPPED_LIBRARY_PARTS):
        return False
    if part.parts[0] == "plugins" and len(part.parts) >= 3:
        kind = part.parts[1]
        if kind in _DROPPED_PLUGIN_TYPES:
            return False
        kept = _KEPT_PLUGINS.get(kind)
        if kept is not None:
            stem = part.name.split(".")[0]
            return stem.removeprefix("lib") in kept
    return True


def _name(path: str) -> PurePosixPath:
    return PurePosixPath(path.replace("\\", "/"))


def _without_dangling_links(entries: list[TocEntry]) -> list[TocEntry]:
    """Drop SYMLINK entries (name, target in the bundle, "SYMLINK") whose target is gone.

    PyInstaller links each Qt library into the bundle's top folder; trimming the
    library must take its link too.
    """
    names = {_name(e[0]) for e in entries if e[2] != "SYMLINK"}
    return [e for e in entries if e[2] != "SYMLINK" or _name(e[1]) in names]


def trim_qt(toc: Iterable[TocEntry]) -> list[TocEntry]:
    return _without_dangling_links([entry for entry in toc if keep_qt_file(entry[0])])


def _is_root(entry: TocEntry) -> bool:
    """Whether the bundle keeps `entry` for itself, not because something links to it."""
    name, _src, typecode = entry
    base = _name(name)
    return (
        typecode != "BINARY"
        or "plugins" in base.parts
        or base.name.lower().startswith(("libpython", "python"))
    )


def prune_unreachable(
    toc: Iterable[TocEntry], imports_of: Callable[[str], Iterable[tuple[str, str | None]]]
) -> list[TocEntry]:
    """Drop the shared libraries that nothing left in the bundle links to.

    PyInstaller collects a plugin's libraries when it analyses the plugin; trimming the
    plugin afterwards leaves them behind (qgtk3 alone brings two dozen). The roots are
    the extension modules, the Qt plugins and libpython; `imports_of(path)` gives a
    binary's (name, path) imports, as `PyInstaller.depend.bindepend.get_imports` does.
    """
    entries = list(toc)
    libraries: dict[str, list[str]] = {}
    for name, src, _typecode in (e for e in entries if not _is_root(e)):
        libraries.setdefault(_name(name).name, []).append(src)
    reached: set[str] = set()
    pending = [e[1] for e in entries if _is_root(e) and e[2] in ("BINARY", "EXTENSION")]
    while pending:
        for imported, _path in imports_of(pending.pop()):
            base = _name(imported).name
            if base in libraries and base not in reached:
                reached.add(base)
                pending.extend(libraries[base])
    return _without_dangling_links(
        [e for e in entries if _is_root(e) or _name(e[0]).name in reached]
    )


def write_version_file(path: Path, version: str | None = None) -> Path:
    """The Windows version resource (Explorer's Details tab) for tailbox.exe."""
    import pyinstaller_versionfile

    path.parent.mkdir(parents=True, exist_ok=True)
    pyinstaller_versionfile.create_versionfile(
        output_file=str(path),
        version=windows_version(version or project_version()),
        company_name="The Tailbox authors",
        file_description="Tailbox desktop log agent",
        internal_name="tailbox",
        legal_copyright="Licensed under the Apache License 2.0",
        original_filename="tailbox.exe",
        product_name=APP_NAME,
    )
    return path
