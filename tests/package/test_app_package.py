"""What the app package ships: conf syntax, no compiled code, Python pins, engine copy, lookups."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from ksconf.conf.parser import PARSECONF_STRICT_NC, ConfParserException, parse_conf

from .support import APP, ROOT

# Contract section 2: each lookup's columns, in this order, in the shipped file's header.
CONTRACT_LOOKUP_HEADERS = {
    "mobile_ingress_allowed_apps": ["platform", "app_id", "roles", "comment"],
    "mobile_ingress_allowed_destinations": ["destination", "app_id", "comment"],
    "mobile_ingress_allowed_paths": ["platform", "app_id", "path_pattern", "comment"],
    "mobile_ingress_file_risk_patterns": ["platform", "field", "pattern", "risk_class"],
    "mobile_ingress_destination_baseline": ["app_id", "dest", "first_seen", "last_seen", "count"],
    "mobile_ingress_managed_apps": ["platform", "app_id", "managed", "approved_roles", "source"],
    "mobile_ingress_device_inventory": ["device_id", "platform", "ip", "user", "first_seen", "last_seen"],
}
# globalConfig.json meta.supportedPythonVersion: Splunk's two interpreters.
PYTHON_REQUIRED = {"3.9", "3.13"}
COMPILED_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".exe")
MACHO_MAGICS = {
    bytes.fromhex(magic) for magic in ("feedface", "cefaedfe", "feedfacf", "cffaedfe", "cafebabe", "bebafeca")
}


def parse(path: Path) -> dict[str, dict[str, str]]:
    return parse_conf(str(path), profile=PARSECONF_STRICT_NC)


def compiled_kind(path: Path) -> str | None:
    """'ELF', 'Mach-O' or 'PE' when the file starts like a native binary, else None."""
    with open(path, "rb") as handle:
        head = handle.read(64)
        if head.startswith(b"\x7fELF"):
            return "ELF"
        if head[:4] in MACHO_MAGICS:
            return "Mach-O"
        if head.startswith(b"MZ") and len(head) >= 64:
            # A PE file is an MZ stub whose e_lfanew (offset 0x3C) points at "PE\0\0".
            (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
            handle.seek(pe_offset)
            if handle.read(4) == b"PE\0\0":
                return "PE"
    return None


def has_compiled_suffix(name: str) -> bool:
    lowered = name.lower()
    # Versioned shared objects too: libfoo.so.1.2
    return lowered.endswith(COMPILED_SUFFIXES) or re.search(r"\.so(\.\d+)+$", lowered) is not None


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def python_script_stanzas(app_dir: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(conf file, stanza, settings) of every stanza that makes Splunk start a Python script.

    Mirrors AppInspect's python.required checks (splunk-appinspect 4.3): scripted and modular
    inputs, custom commands, REST and EAI handlers, alert actions, external lookups, plus any
    stanza that still names a python.version.
    """
    default = app_dir / "default"
    bin_dir = app_dir / "bin"
    found = []
    for conf_path in sorted(default.glob("*.conf")):
        conf = parse(conf_path)
        for name, settings in conf.items():
            if name == "default":
                continue
            script = "python.version" in settings
            if conf_path.name == "inputs.conf":
                scheme = name.split("://", 1)[0]
                script = script or (name.startswith("script://") and name.endswith(".py"))
                script = script or (bin_dir / f"{scheme}.py").is_file()
            elif conf_path.name == "commands.conf":
                script = script or settings.get("filename", f"{name}.py").endswith(".py")
            elif conf_path.name == "restmap.conf":
                if name.startswith("script:"):
                    is_python = settings.get("scripttype", "python").lower() == "python"
                    script = script or (is_python and ("handler" in settings or "script" in settings))
                elif name.startswith("admin_external:"):
                    is_python = settings.get("handlertype", "").lower() == "python"
                    script = script or (is_python and "handlerfile" in settings)
            elif conf_path.name == "alert_actions.conf":
                script = script or settings.get("alert.execute.cmd", "").endswith(".py")
                script = script or (bin_dir / f"{name}.py").is_file()
            elif conf_path.name == "transforms.conf":
                is_python = settings.get("external_type", "python").lower() == "python"
                script = script or ("external_cmd" in settings and is_python)
            if script:
                found.append((conf_path.name, name, settings))
    return found


# ----------------------------------------------------------------------------- the package itself


def test_package_holds_exactly_the_built_app(package_members: list[tarfile.TarInfo], build_dir: Path) -> None:
    packaged = {m.name for m in package_members if m.isfile()}
    built = {f"{APP}/{p.relative_to(build_dir).as_posix()}" for p in files_under(build_dir)}
    assert packaged == built, "dist/ is stale: run `make package` after `make build`"


def test_package_has_no_links(package_members: list[tarfile.TarInfo]) -> None:
    links = [m.name for m in package_members if m.issym() or m.islnk()]
    assert links == []


def test_package_has_one_top_level_folder_named_for_the_app(package_members: list[tarfile.TarInfo]) -> None:
    assert {m.name.split("/", 1)[0] for m in package_members} == {APP}


# ------------------------------------------------------------------------------------ .conf files


def test_every_conf_file_parses_strictly(app_dir: Path) -> None:
    confs = sorted(app_dir.rglob("*.conf"))
    assert any(path.name == "app.conf" for path in confs)
    errors = []
    for path in confs:
        try:
            parse(path)
        except ConfParserException as exc:  # duplicate stanzas or keys, junk lines
            errors.append(f"{path.relative_to(app_dir)}: {exc}")
    assert errors == []


def test_every_meta_file_parses_strictly(app_dir: Path) -> None:
    metas = sorted((app_dir / "metadata").glob("*.meta"))
    assert metas, "metadata/default.meta is missing"
    for path in metas:
        parse(path)


def test_every_python_script_stanza_sets_python_required_to_both_interpreters(app_dir: Path) -> None:
    stanzas = python_script_stanzas(app_dir)
    # Today the configuration page's REST handler; later issues add inputs and the search command.
    assert stanzas, "no Python script stanza found: the stanza detection is broken"
    wrong = {
        f"{conf} [{name}]": settings.get("python.required")
        for conf, name, settings in stanzas
        if {v.strip() for v in settings.get("python.required", "").split(",")} != PYTHON_REQUIRED
    }
    assert wrong == {}, f"python.required must be {', '.join(sorted(PYTHON_REQUIRED))}"


def test_python_script_stanza_detection_finds_inputs_commands_and_handlers(tmp_path: Path) -> None:
    # Guards the check above against silently matching nothing.
    (tmp_path / "default").mkdir()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mdm_jamf.py").write_text("")
    (tmp_path / "default" / "inputs.conf").write_text("[mdm_jamf]\n\n[monitor:///var/log]\n")
    (tmp_path / "default" / "commands.conf").write_text("[ingresscorrelate]\nchunked = true\n")
    (tmp_path / "default" / "restmap.conf").write_text(
        "[admin_external:x]\nhandlertype = python\nhandlerfile = x.py\n\n[admin:y]\nmatch = /\n"
    )
    found = {(conf, name) for conf, name, _ in python_script_stanzas(tmp_path)}
    assert found == {
        ("inputs.conf", "mdm_jamf"),
        ("commands.conf", "ingresscorrelate"),
        ("restmap.conf", "admin_external:x"),
    }


# ----------------------------------------------------------------------------------- compiled code


def test_no_file_has_a_compiled_extension(app_dir: Path) -> None:
    assert [str(p.relative_to(app_dir)) for p in files_under(app_dir) if has_compiled_suffix(p.name)] == []


def test_no_file_is_an_elf_macho_or_pe_binary(app_dir: Path) -> None:
    binaries = {str(p.relative_to(app_dir)): compiled_kind(p) for p in files_under(app_dir)}
    assert {path: kind for path, kind in binaries.items() if kind} == {}


def test_compiled_file_detection_recognizes_elf_macho_pe_and_versioned_so(tmp_path: Path) -> None:
    samples = {
        "elf": b"\x7fELF\x02\x01\x01" + bytes(57),
        "macho": bytes.fromhex("cffaedfe") + bytes(60),
        "pe": b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\0\0" + bytes(16),
        "text": b"MZ is also how a text file may start" + bytes(28),
    }
    for name, data in samples.items():
        (tmp_path / name).write_bytes(data)
    kinds = {name: compiled_kind(tmp_path / name) for name in samples}
    assert kinds == {"elf": "ELF", "macho": "Mach-O", "pe": "PE", "text": None}
    assert has_compiled_suffix("_upb.cpython-311-x86_64-linux-gnu.so")
    assert has_compiled_suffix("libgrpc.so.45.1")
    assert not has_compiled_suffix("socks.py")


def test_lib_holds_the_pinned_libraries_and_none_of_the_excluded(app_dir: Path) -> None:
    # Also keeps the compiled-code tests honest: lib/ is really there and really scanned.
    pins = dict(
        line.split("==")
        for line in (ROOT / "package" / "lib" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    # "splunk_sdk-2.1.1.dist-info" -> ("splunk-sdk", "2.1.1")
    dists = [path.name[: -len(".dist-info")].rsplit("-", 1) for path in (app_dir / "lib").glob("*.dist-info")]
    installed = {name.replace("_", "-").lower(): dist_version for name, dist_version in dists}
    assert {name: installed.get(name) for name in pins} == pins
    excluded = {
        line.strip().lower()
        for line in (ROOT / "package" / "lib" / "exclude.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert excluded & set(installed) == set()
    assert not (app_dir / "lib" / "grpc").exists()
    assert not (app_dir / "lib" / "google" / "protobuf").exists()


def test_vendored_splunk_libraries_import_without_the_excluded_packages(app_dir: Path) -> None:
    # exclude.txt removed grpc, protobuf and OpenTelemetry; what the app uses must not need them.
    # (splunktaucclib.rest_handler needs Splunk's own `splunk` module, so only its top is imported.)
    modules = ["splunklib.client", "splunklib.searchcommands", "solnlib.conf_manager", "solnlib.log"]
    modules.append("splunktaucclib")
    code = (
        "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
        "[importlib.import_module(m) for m in sys.argv[2:]]"
    )
    run_isolated(app_dir, code, str(app_dir / "lib"), *modules)


def test_no_python_bytecode_is_shipped(app_dir: Path) -> None:
    stale = [p for p in app_dir.rglob("*") if p.name == "__pycache__" or p.suffix in (".pyc", ".pyo")]
    assert stale == []


# ---------------------------------------------------------------------------------------- engine


def test_engine_package_is_in_bin(app_dir: Path) -> None:
    package = app_dir / "bin" / "mobile_ingress"
    assert (package / "__init__.py").is_file()
    assert (package / "engine" / "__init__.py").is_file()


def test_engine_copy_leaves_out_cli_simulate_and_lookups(app_dir: Path) -> None:
    package = app_dir / "bin" / "mobile_ingress"
    assert sorted(name for name in ("cli", "simulate", "lookups") if (package / name).exists()) == []


def test_engine_copy_matches_the_source_tree(app_dir: Path) -> None:
    source = ROOT / "src" / "mobile_ingress"
    shipped = app_dir / "bin" / "mobile_ingress"
    expected = {
        p.relative_to(source).as_posix()
        for p in files_under(source)
        if p.relative_to(source).parts[0] not in ("cli", "simulate", "lookups")
        and "__pycache__" not in p.parts
        and p.suffix not in (".pyc", ".pyo")
    }
    assert {p.relative_to(shipped).as_posix() for p in files_under(shipped)} == expected


def test_engine_imports_from_the_app_with_the_standard_library_alone(app_dir: Path) -> None:
    # -S: no site-packages, so neither the editable install nor any third-party library can help.
    # -B: write no bytecode into the unpacked app (test_no_python_bytecode_is_shipped reads it).
    bin_dir = app_dir / "bin"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import mobile_ingress.engine as e; "
        "assert e.__file__.startswith(sys.argv[1]), e.__file__; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('splunklib', 'splunk', 'rich')]"
    )
    run_isolated(app_dir, code, str(bin_dir))


# -------------------------------------------------------------------------------------- versions


def test_built_app_versions_match_pyproject(app_dir: Path, version: str) -> None:
    manifest = json.loads((app_dir / "app.manifest").read_text(encoding="utf-8"))
    app_conf = parse(app_dir / "default" / "app.conf")
    assert {
        "app.manifest": manifest["info"]["id"]["version"],
        "app.conf [launcher]": app_conf["launcher"]["version"],
        "app.conf [id]": app_conf["id"]["version"],
    } == dict.fromkeys(("app.manifest", "app.conf [launcher]", "app.conf [id]"), version)


def test_source_versions_match_pyproject(version: str) -> None:
    manifest = json.loads((ROOT / "package" / "app.manifest").read_text(encoding="utf-8"))
    app_conf = parse(ROOT / "package" / "default" / "app.conf")
    global_config = json.loads((ROOT / "globalConfig.json").read_text(encoding="utf-8"))
    init = (ROOT / "src" / "mobile_ingress" / "__init__.py").read_text(encoding="utf-8")
    init_version = re.search(r'^__version__\s*=\s*"([^"]+)"', init, re.MULTILINE)
    assert {
        "package/app.manifest": manifest["info"]["id"]["version"],
        "package/default/app.conf [launcher]": app_conf["launcher"]["version"],
        "package/default/app.conf [id]": app_conf["id"]["version"],
        "globalConfig.json meta.version": global_config["meta"]["version"],
        "mobile_ingress.__version__": init_version.group(1) if init_version else None,
    } == dict.fromkeys(
        (
            "package/app.manifest",
            "package/default/app.conf [launcher]",
            "package/default/app.conf [id]",
            "globalConfig.json meta.version",
            "mobile_ingress.__version__",
        ),
        version,
    )


def test_app_id_is_the_contract_name_everywhere(app_dir: Path) -> None:
    manifest = json.loads((app_dir / "app.manifest").read_text(encoding="utf-8"))
    app_conf = parse(app_dir / "default" / "app.conf")
    assert (manifest["info"]["id"]["name"], app_conf["id"]["name"], app_conf["package"]["id"]) == (APP,) * 3


# ----------------------------------------------------------------------------------------- icons

# Splunk's app icon and logo names and their sizes (AppInspect checks the icons too).
ICON_SIZES = {
    "appIcon.png": (36, 36),
    "appIcon_2x.png": (72, 72),
    "appIconAlt.png": (36, 36),
    "appIconAlt_2x.png": (72, 72),
    "appLogo.png": (160, 40),
    "appLogo_2x.png": (320, 80),
}


def test_icons_and_logos_are_pngs_of_the_sizes_splunk_expects(app_dir: Path) -> None:
    sizes = {}
    for name in ICON_SIZES:
        path = app_dir / "static" / name
        head = path.read_bytes()[:24] if path.is_file() else b""
        # PNG signature, then the IHDR chunk: width and height as big-endian 32-bit integers.
        sizes[name] = struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None
    assert sizes == ICON_SIZES


# --------------------------------------------------------------------------------------- lookups


@pytest.mark.parametrize("lookup", sorted(CONTRACT_LOOKUP_HEADERS))
def test_contract_lookup_ships_with_its_exact_header(app_dir: Path, lookup: str) -> None:
    path = app_dir / "lookups" / f"{lookup}.csv"
    assert path.is_file(), f"lookups/{lookup}.csv is not in the package"
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == CONTRACT_LOOKUP_HEADERS[lookup]


def test_package_lookups_are_the_shipped_defaults(app_dir: Path) -> None:
    source = ROOT / "package" / "lookups"
    for path in sorted(source.glob("*.csv")):
        assert (app_dir / "lookups" / path.name).read_bytes() == path.read_bytes(), path.name


# ------------------------------------------------------------------------------------ AppInspect


def _appinspect_report_tool() -> ModuleType:
    # tools/ is scripts, not a package: load the report checker that `make inspect` runs.
    path = ROOT / "tools" / "appinspect_report.py"
    spec = importlib.util.spec_from_file_location("appinspect_report", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_appinspect_report_is_for_this_package(
    inspect_report: Path, package_path: Path, version: str
) -> None:
    report = json.loads(inspect_report.read_text(encoding="utf-8"))
    assert [(r["app_package_id"], r["app_version"]) for r in report["reports"]] == [(APP, version)]
    assert inspect_report.stat().st_mtime >= package_path.stat().st_mtime, "report older than the package"


def test_appinspect_reports_no_failure_future_failure_or_error(inspect_report: Path) -> None:
    tool = _appinspect_report_tool()
    totals = tool.summary(tool.load(str(inspect_report)))
    assert {key: totals.get(key, 0) for key in tool.BLOCKING} == dict.fromkeys(tool.BLOCKING, 0)


def test_every_appinspect_warning_is_explained_in_docs(inspect_report: Path) -> None:
    tool = _appinspect_report_tool()
    warned = {name for name, _ in tool.checks_with_result(tool.load(str(inspect_report)), "warning")}
    docs = (ROOT / "docs" / "appinspect.md").read_text(encoding="utf-8")
    assert sorted(name for name in warned if f"`{name}`" not in docs) == []


def run_isolated(app_dir: Path, code: str, *args: str) -> None:
    """Run `code` in a Python with no site-packages and no environment, as Splunk's would be."""
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-B", "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=str(app_dir),
        env={"PATH": os.environ.get("PATH", "")},
        check=False,
    )
    assert result.returncode == 0, result.stderr
