"""The house rules: one mode registry, one error boundary, files that survive a kill, a light import,
folders whose imports run one way."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnadesign.config import PRESETS
from rnadesign.errors import RnaDesignError
from rnadesign.files import (
    CorruptFileError,
    append_json_line,
    atomic_open,
    atomic_write_json,
    output_directory,
    read_json_lines,
)
from rnadesign.modes import DEFAULT_MODE, MODES, get_mode

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "rnadesign", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


# --- the mode registry ---------------------------------------------------------------------------


def test_every_mode_has_a_runner_and_the_default_is_registered():
    assert DEFAULT_MODE in MODES
    for mode in MODES.values():
        assert callable(mode.load_runner()), mode.name
        if mode.preset is not None:
            assert mode.preset in PRESETS


def test_meta_learna_adapt_updates_as_often_as_learna_fast():
    fast = PRESETS["learna-fast"]["ppo"]
    overrides = get_mode("meta-learna-adapt").ppo_overrides
    assert overrides == {"batch_size": fast["batch_size"], "n_envs": fast["n_envs"]}
    agent, policy = get_mode("meta-learna-adapt").resolve()
    assert policy is not None and agent.ppo.batch_size == fast["batch_size"] and agent.ppo.n_envs == fast["n_envs"]


def test_unknown_mode_and_misplaced_options_are_user_errors():
    with pytest.raises(RnaDesignError, match="unknown mode 'magic'"):
        get_mode("magic")
    with pytest.raises(RnaDesignError, match="takes no agent configuration"):
        get_mode("meta-learna").resolve("learna")
    with pytest.raises(RnaDesignError, match="uses no pre-trained policy"):
        get_mode("learna").resolve(policy="x.pt")


def test_rnainverse_is_a_design_mode_and_the_test_refolds_it():
    from rnadesign.design import DesignSettings, design
    from rnadesign.model.folding import fold

    target = "((((((....))))))"
    result = design(target, DesignSettings(mode="rnainverse", time_limit=10, seed=3))
    assert result.solved and fold(result.sequence)[0] == target and result.folds >= 1


# --- files that survive a kill -------------------------------------------------------------------


def test_a_torn_last_line_is_set_aside_before_the_next_append(tmp_path):
    path = tmp_path / "log.jsonl"
    append_json_line(path, {"n": 1})
    append_json_line(path, {"n": 2})
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"n": 3, "half')  # a kill mid-write
    assert read_json_lines(path) == [{"n": 1}, {"n": 2}]  # readers ignore the torn tail
    append_json_line(path, {"n": 4})
    assert read_json_lines(path) == [{"n": 1}, {"n": 2}, {"n": 4}]  # the new record is whole
    assert (tmp_path / "log.jsonl.torn").read_text(encoding="utf-8") == '{"n": 3, "half\n'


def test_a_bad_complete_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"n": 1}\nnot json\n{"n": 3}\n', encoding="utf-8")
    with pytest.raises(CorruptFileError, match=r"log.jsonl: line 2: not a JSON value"):
        read_json_lines(path)
    path.write_bytes(b'{"n": 1}\n\xff\xfe\n')
    with pytest.raises(CorruptFileError, match=r"line 2: not UTF-8"):
        read_json_lines(path)


def test_atomic_writes_leave_the_old_file_on_failure(tmp_path):
    path = tmp_path / "sub" / "summary.json"
    atomic_write_json(path, {"v": 1})
    with pytest.raises(RuntimeError), atomic_open(path) as f:
        f.write('{"v": 2, "tru')
        raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text(encoding="utf-8")) == {"v": 1}
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]  # no temporary file left


def test_output_directory_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(RnaDesignError, match="exists and is not a directory"):
        output_directory(tmp_path / "f")
    assert output_directory(tmp_path / "a" / "b").is_dir()


# --- the error boundary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["benchmark", "rfam-taneda", "--time-limit", "1", "--out", "/proc/nope"],
        ["meta-train", "--time-budget", "5", "--out", "/proc/nope"],
        ["design", "--input", "/proc"],
    ],
)
def test_os_errors_on_user_paths_are_one_line_and_exit_2(args):
    proc = run(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnadesign: error: /proc") and "Traceback" not in proc.stderr


def test_out_naming_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    proc = run("benchmark", "rfam-taneda", "--time-limit", "1", "--out", str(tmp_path / "f"))
    expected = f"rnadesign: error: {tmp_path / 'f'}: exists and is not a directory"
    assert proc.returncode == 2 and proc.stderr.strip() == expected


def test_help_lists_no_hidden_subcommand():
    proc = run("--help")
    assert proc.returncode == 0 and "SUPPRESS" not in proc.stdout and "benchmark-compare" not in proc.stdout


# --- a light import, datasets however the package is used -----------------------------------------


def test_importing_structure_loads_nothing_heavy():
    code = "import rnadesign.model.structure, sys; print('torch' in sys.modules, 'RNA' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_the_command_line_loads_the_web_page_only_to_serve():
    code = (
        "import sys; from rnadesign.cli.main import _add_serve; from rnadesign.cli.parser import build_parser; "
        "build_parser(_add_serve).parse_args(['serve']); print(sorted(m for m in sys.modules if m.startswith("
        "('rnadesign.web', 'starlette', 'uvicorn', 'jinja2'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['rnadesign.web', 'rnadesign.web.command']"


def test_datasets_resolve_from_a_source_checkout_on_pythonpath(tmp_path):
    """A checkout on PYTHONPATH, run from elsewhere, with site-packages out of the way (-S keeps the
    installed (editable) rnadesign from being found first)."""
    import numpy

    site = str(Path(numpy.__file__).resolve().parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.append({site!r}); "
        "from rnadesign.benchmark.datasets import load_dataset; import rnadesign; "
        "print(len(load_dataset('rfam-taneda').targets), rnadesign.__file__)"
    )
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    count, location = proc.stdout.split()
    assert count == "29" and location.startswith(str(ROOT))


@pytest.mark.parametrize("module", ["rnadesign.rl.env", "rnadesign.env"])  # the second: the old address, an alias
def test_registering_the_env_id_needs_only_the_env_module(module):
    code = f"import gymnasium as gym; env = gym.make('{module}:RnaDesign-v0', targets='((....))'); print('ok')"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == "ok"


# --- folders that show the architecture: imports run one way ---------------------------------------

PACKAGE = ROOT / "rnadesign"
#: Each module's floor, by name prefix (the longest that matches): a module imports only its own floor
#: and those below it. rl/ and search/ share a floor and never import each other.
LAYERS = {
    "rnadesign.errors": 0,
    "rnadesign.config": 0,
    "rnadesign.files": 0,
    "rnadesign.model": 1,
    "rnadesign.run": 2,
    "rnadesign.rl": 3,
    "rnadesign.search": 3,
    "rnadesign.runners": 4,
    "rnadesign.modes": 5,
    "rnadesign.design": 5,
    "rnadesign.env": 5,  # the environment's old address, an alias of rnadesign.rl.env
    "rnadesign.benchmark": 6,
    "rnadesign.expert": 6,  # expert iteration: designs with design(), trains the rl/ network
    "rnadesign.cli": 7,
    "rnadesign.web": 7,  # rnadesign serve: uses cli's parser and checks; only cli/main.py imports it
    "rnadesign.__main__": 8,
}
MAX_ROOT_MODULES = 12
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The rnadesign modules ``name`` imports, anywhere in it (inside functions and TYPE_CHECKING too).
    The package itself (``rnadesign``: lazy names and the version) counts as no import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m not in ("rnadesign", name)}


def _layer(name: str) -> int:
    prefix = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len, default=None)
    assert prefix is not None, f"{name} has no floor in tests/test_house.py LAYERS"
    return LAYERS[prefix]


@pytest.fixture(scope="module")
def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_imports_run_down_the_floors_only(import_graph):
    upward = [
        f"{name} (floor {_layer(name)}) imports {target} (floor {_layer(target)})"
        for name, targets in import_graph.items()
        if name != "rnadesign"
        for target in targets
        if _layer(target) > _layer(name)
    ]
    assert not upward, "\n".join(upward)


def test_rl_and_search_never_import_each_other(import_graph):
    def family(name: str) -> str:
        return name.split(".")[1] if name.count(".") else ""

    crossing = [
        f"{name} imports {target}"
        for name, targets in import_graph.items()
        for target in targets
        if {family(name), family(target)} == {"rl", "search"}
    ]
    assert not crossing, "\n".join(crossing)


def test_only_the_entry_point_imports_the_web_page(import_graph):
    """rnadesign.web shares cli's floor and imports its parser and commands: only cli/main.py may import it."""
    importers = sorted(
        name
        for name, targets in import_graph.items()
        if not name.startswith("rnadesign.web")
        for target in targets
        if target.startswith("rnadesign.web")
    )
    assert importers == ["rnadesign.cli.main"]


def test_no_import_circles(import_graph):
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in stack:
            raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(name) :], name]))
        if name in done:
            return
        for target in sorted(import_graph[name]):
            visit(target, [*stack, name])
        done.add(name)

    for name in import_graph:
        visit(name, [])


def test_the_root_is_small_and_no_module_is_long():
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root
    long = {
        str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_every_package_folder_is_in_the_wheel():
    """pyproject.toml lists the packages by name: a new folder missing there installs in editable mode
    (the checkout is on the path) but is left out of a wheel, and the installed package fails to import."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # no tomllib on Python 3.10
    block = re.search(r"^\[tool\.setuptools\]\npackages = \[(.*?)\]", pyproject, re.M | re.S)
    assert block, "pyproject.toml: no packages list under [tool.setuptools]"
    listed = set(re.findall(r'"([\w.]+)"', block.group(1)))
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for top in ("rnadesign", "autorl")
        for path in (ROOT / top).rglob("__init__.py")
    }
    assert folders - listed == set(), "add to [tool.setuptools] packages in pyproject.toml"
