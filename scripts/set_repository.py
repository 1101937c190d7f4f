"""Point every Colab badge and every notebook's Colab set-up cell at the course's repository.

The repository is written once, in ``pyproject.toml``::

    [tool.gan-course]
    repository = "gan-course/gan-course"   # owner/name on GitHub
    branch = "main"

From it this script writes, in every notebook, the badge of the first cell (it opens *that* notebook
in Colab) and the set-up cell tagged ``setup`` (clone, install ganlib, enable Colab's widget manager),
and the badges of the README's lesson table. ``tests/test_colab.py`` fails when any of them disagrees.

    python scripts/set_repository.py                                # rewrite everything from pyproject.toml
    python scripts/set_repository.py --repository you/your-fork     # publish a fork: set it, then rewrite
    python scripts/set_repository.py --check                        # only list what disagrees (exit 1 if any)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/notebooks/([\w.-]+\.ipynb)")
REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9._-]+$")
SETUP = '''# Colab only: fetch the course and install its helper package, ganlib. Elsewhere this does nothing.
import sys
if "google.colab" in sys.modules:
    import subprocess
    subprocess.run(["git", "clone", "-q", "--depth", "1", "https://github.com/{repo}", "/content/{name}"], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/{name}"], check=True)
    sys.path.insert(0, "/content/{name}")
    from google.colab import output
    output.enable_custom_widget_manager()  # lets Colab draw the ipywidgets sliders'''


def read_setting(root: Path = ROOT) -> tuple[str, str]:
    """``(repository, branch)`` from the ``[tool.gan-course]`` table of ``pyproject.toml``."""
    text = (root / "pyproject.toml").read_text()
    table = re.search(r"^\[tool\.gan-course\][^\n]*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    values = dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', table.group(1), re.M)) if table else {}
    if "repository" not in values:
        raise SystemExit(f"{root / 'pyproject.toml'} has no [tool.gan-course] repository = \"owner/name\".")
    return values["repository"], values.get("branch", "main")


def badge_url(repo: str, branch: str, notebook: str) -> str:
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{notebook}"


def setup_cell(repo: str) -> str:
    return SETUP.format(repo=repo, name=repo.split("/")[1])


def _fix_badges(text: str, repo: str, branch: str) -> str:
    return BADGE.sub(lambda m: badge_url(repo, branch, m.group(1)), text)


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def fix(root: Path = ROOT) -> list[str]:
    """Rewrite badges and set-up cells from the setting; return the files that changed."""
    repo, branch = read_setting(root)
    changed = []
    readme = root / "README.md"
    text = readme.read_text()
    if _fix_badges(text, repo, branch) != text:
        readme.write_text(_fix_badges(text, repo, branch))
        changed.append("README.md")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        before = json.dumps(nb)
        first = nb["cells"][0]  # its badge opens this very notebook
        first["source"] = _lines(BADGE.sub(badge_url(repo, branch, path.name), "".join(first["source"])))
        for cell in nb["cells"]:
            if "setup" in cell.get("metadata", {}).get("tags", []):
                cell["source"] = _lines(setup_cell(repo))
        if json.dumps(nb) != before:
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
            changed.append(f"notebooks/{path.name}")
    return changed


def check(root: Path = ROOT) -> list[str]:
    """What disagrees with the setting, one line per problem (empty: all agree)."""
    repo, branch = read_setting(root)
    problems = []
    readme = (root / "README.md").read_text()
    for m in BADGE.finditer(readme):
        if m.group(0) != badge_url(repo, branch, m.group(1)):
            problems.append(f"README.md: badge {m.group(0)} (expected {badge_url(repo, branch, m.group(1))})")
        if not (root / "notebooks" / m.group(1)).is_file():
            problems.append(f"README.md: badge for notebooks/{m.group(1)}, which does not exist")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        name = f"notebooks/{path.name}"
        found = BADGE.search("".join(nb["cells"][0]["source"]))
        if found is None:
            problems.append(f"{name}: no Colab badge in the first cell")
        elif found.group(0) != badge_url(repo, branch, path.name):
            problems.append(f"{name}: badge {found.group(0)} (expected {badge_url(repo, branch, path.name)})")
        setups = [c for c in nb["cells"] if "setup" in c.get("metadata", {}).get("tags", [])]
        if len(setups) != 1:
            problems.append(f"{name}: {len(setups)} cells tagged 'setup' (expected one)")
        elif "".join(setups[0]["source"]) != setup_cell(repo):
            problems.append(f"{name}: the set-up cell differs from the one for {repo}")
        if f"{path.stem}]" not in readme and f"notebooks/{path.name})" not in readme:
            problems.append(f"README.md: no row for {name}")
    return problems


def set_repository(repo: str, branch: str | None, root: Path = ROOT) -> None:
    """Write the setting into ``pyproject.toml``."""
    if not REPOSITORY.match(repo):
        raise SystemExit(f"--repository must be owner/name as on GitHub, e.g. gan-course/gan-course; got {repo!r}.")
    path = root / "pyproject.toml"
    text = path.read_text()
    text = re.sub(r'(^\[tool\.gan-course\][^\[]*?^repository\s*=\s*)"[^"]*"', rf'\1"{repo}"', text, flags=re.M | re.S)
    if branch is not None:
        text = re.sub(r'(^\[tool\.gan-course\][^\[]*?^branch\s*=\s*)"[^"]*"', rf'\1"{branch}"', text, flags=re.M | re.S)
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repository", help="owner/name on GitHub: written to pyproject.toml first")
    p.add_argument("--branch", help="the branch the badges open (with --repository; default: as set)")
    p.add_argument("--check", action="store_true", help="only list what disagrees; exit 1 if anything does")
    p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.check:
        problems = check(args.root)
        print("\n".join(problems) or "every badge and set-up cell agrees with pyproject.toml")
        return 1 if problems else 0
    if args.repository:
        set_repository(args.repository, args.branch, args.root)
    changed = fix(args.root)
    print(f"{read_setting(args.root)[0]}: " + (", ".join(changed) if changed else "nothing to change"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
