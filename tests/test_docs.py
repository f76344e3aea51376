"""The claims the README and docs/ make about the code, checked against the code."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("services", "rapport_common")


def _read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def _python_files(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _imported_modules(tree: ast.AST) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(f"## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def test_architecture_names_every_module_that_imports_arq() -> None:
    importers = {
        path.relative_to(ROOT).as_posix()
        for path in _python_files(*SOURCE_PACKAGES)
        if any(
            module == "arq" or module.startswith("arq.")
            for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        )
    }
    named = set(re.findall(r"`([\w/]+\.py)`", _section(_read("docs/architecture.md"), "The queue")))

    assert importers, "no module imports arq: the doc describes a queue that is gone"
    assert named == importers


def test_the_strength_formula_is_written_only_in_its_module() -> None:
    formula_module = "rapport_common/strength.py"
    # The decay, in Python (``2 ** (-days / half_life)``) or in Cypher (``2.0 ^ (...)``).
    decay = re.compile(r"\b2(\.0)?\s*(\*\*|\^)\s*\(")
    writers = {
        path.relative_to(ROOT).as_posix()
        for path in _python_files(*SOURCE_PACKAGES)
        if decay.search(path.read_text(encoding="utf-8"))
    }

    assert writers == {formula_module}
    assert f"`{formula_module}`" in _read("README.md")
    assert f"`{formula_module}`" in _read("docs/graph.md")


def test_every_domain_file_role_is_one_the_architecture_explains() -> None:
    architecture = _read("docs/architecture.md")
    roles = set(re.findall(r"^\| `(\w+\.py)` \|", architecture, flags=re.MULTILINE))
    unexplained = []
    for service in ("api", "graph", "notifier"):
        for domain in sorted(p for p in (ROOT / "services" / service).iterdir() if p.is_dir()):
            if not (domain / "__init__.py").exists():
                continue
            for module in sorted(domain.glob("*.py")):
                name = module.name
                if name == "__init__.py" or name in roles:
                    continue
                if f"`{name}`" not in architecture:
                    unexplained.append(module.relative_to(ROOT).as_posix())

    assert roles >= {"router.py", "schemas.py", "service.py", "repository.py"}
    assert unexplained == []


def test_tests_wait_by_polling_never_by_a_bare_sleep() -> None:
    sleepers = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not function.name.startswith("test_"):
                continue
            for call in ast.walk(function):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "sleep"
                    and not (
                        call.args
                        and isinstance(call.args[0], ast.Constant)
                        and call.args[0].value == 0
                    )
                ):
                    sleepers.append(f"{path.relative_to(ROOT)}:{call.lineno}")

    assert sleepers == []


def test_readme_gives_each_service_the_port_it_listens_on() -> None:
    settings = _read("rapport_common/settings.py")
    services = _section(_read("README.md"), "What runs where")
    for service, section in (
        ("api", "ApiSettings"),
        ("graph", "GraphServiceSettings"),
        ("notifier", "NotifierSettings"),
    ):
        default_port = re.search(rf"class {section}\(.*?port: int = (\d+)", settings, re.DOTALL)
        assert default_port is not None, f"no default port for the {service} service"
        row = next(line for line in services.splitlines() if f"`services/{service}`" in line)
        assert f"127.0.0.1:{default_port.group(1)}" in row
