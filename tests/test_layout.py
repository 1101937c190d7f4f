"""The package's shape: imports flow one way (core -> evaluation -> plotting -> widgets -> papers ->
checks), no module imports one above it or forms a cycle, and no file grows much over 500 lines.

Every import statement counts, also those inside functions: an import moved into a function to
dodge a cycle is still an upward import.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ganlib"
MAX_LINES = 500

# Every module in order: a module may import only modules that come before it.
ORDER = [
    "config", "utils", "validate", "shapes", "data", "sampling", "layers", "losses", "schedules", "training", "pretrained",
    "datasets.download", "datasets.translation",
    "evaluation.stats", "evaluation.evaluator", "evaluation.metrics", "evaluation.callbacks",
    "plotting", "widgets",
    "papers.gan", "papers.dcgan", "papers.cgan", "papers.wgan", "papers.pix2pix", "papers.cyclegan", "papers.infogan", "papers.sgan",
    "checks.core",
]
LAYERS = ["core", "evaluation", "plotting", "widgets", "papers", "checks"]


def _modules() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.name != "__init__":
            found.append(".".join(rel.parts))
    return found


def _rank(module: str) -> int:
    """The position of a module in ORDER; checks.lessonNN files come after checks.core, in lesson order."""
    if module in ORDER:
        return ORDER.index(module)
    if module.startswith("checks.lesson"):
        return len(ORDER) + sorted(m for m in _modules() if m.startswith("checks.lesson")).index(module)
    raise AssertionError(f"ganlib.{module} is not placed in tests/test_layout.py's ORDER: add it where it belongs.")


def _layer(module: str) -> str:
    head = module.split(".")[0]
    return head if head in LAYERS else "core"


def _imports(module: str) -> list[tuple[int, str]]:
    """(line, ganlib module) for every ganlib import in ``module``, at any depth of the file."""
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "ganlib":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [alias.name for alias in node.names]
            for name in names:  # "from . import x" imports the module x
                full = ".".join(target + [name])
                found.append((node.lineno, full if full in _modules() else ".".join(target)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ganlib":
                    found.append((node.lineno, ".".join(alias.name.split(".")[1:])))
    return [(line, target) for line, target in found if target in _modules()]


def test_every_module_has_a_place():
    for module in _modules():
        _rank(module)


@pytest.mark.parametrize("module", _modules())
def test_imports_flow_one_way(module):
    upward = [f"line {line}: {target} ({_layer(target)})" for line, target in _imports(module)
              if _rank(target) >= _rank(module)]
    assert not upward, (f"ganlib.{module} ({_layer(module)}) imports modules that come after it or itself: "
                        f"{'; '.join(upward)}. Move the shared piece down instead.")


def test_the_layers_are_in_the_designed_order():
    ranks = [max((_rank(m) for m in _modules() if _layer(m) == layer), default=-1) for layer in LAYERS]
    firsts = [min((_rank(m) for m in _modules() if _layer(m) == layer), default=-1) for layer in LAYERS]
    for i in range(1, len(LAYERS)):
        assert firsts[i] > ranks[i - 1], f"{LAYERS[i]} must come wholly after {LAYERS[i - 1]} in ORDER."


def test_the_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The test itself can fail: a core module importing a paper is reported."""
    fake = tmp_path / "ganlib"
    for path in PACKAGE.rglob("*.py"):
        target = fake / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (fake / "losses.py").write_text((fake / "losses.py").read_text() + "\n\ndef f():\n    from .papers import gan\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    with pytest.raises(AssertionError, match=r"ganlib.losses \(core\) imports .*papers.gan \(papers\)"):
        test_imports_flow_one_way("losses")


@pytest.mark.parametrize("module", _modules())
def test_no_file_is_much_over_500_lines(module):
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"ganlib/{path.relative_to(PACKAGE)} has {n} lines; split it by role."


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_a_subpackage_init_imports_only_its_own_modules_and_earlier_layers(package):
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text())
    own = [m for m in _modules() if m.startswith(package + ".")]
    last = max(_rank(m) for m in own)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = [package][: 2 - node.level] + (node.module.split(".") if node.module else [])
            for alias in node.names:
                full = ".".join(base + [alias.name])
                target = full if full in _modules() else ".".join(base)
                if target in _modules() and _rank(target) > last:
                    found.append(target)
    assert not found, f"ganlib/{package}/__init__.py imports modules after its own: {found}"
