"""The settings side of `make lint`'s check of the Kubernetes manifests (validate.sh).

``check DEV PRODUCTION`` reads the two rendered overlays and refuses:
- a ``RAPPORT_`` variable (in the ConfigMap, the Secret or a container's ``env``, or in
  docker-compose.yml) that names no field of rapport_common/settings.py: the settings
  ignore unknown variables, so a misspelt one would silently be the default;
- settings the services would refuse at start (a wrong type, a production secret that
  is missing or a placeholder), by building ``Settings`` from the ConfigMap and Secret;
- a dev overlay that is not deploy/stack.env with the hostnames docker-compose.yml uses.

``throwaway-secrets EXAMPLE`` prints EXAMPLE's variables with random values, so the
production overlay can be rendered without the site's secrets.
"""

import base64
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from rapport_common.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "RAPPORT_"


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines as docker and kustomize read them: no quoting, # comments."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value
    return pairs


def names_a_setting(variable: str) -> bool:
    section, _, field = variable.removeprefix(PREFIX).lower().partition("__")
    info = Settings.model_fields.get(section)
    if info is None:
        return False
    if not field:
        return True
    model = info.annotation
    return isinstance(model, type) and issubclass(model, BaseModel) and field in model.model_fields


def settings_of(objects: list[dict[str, Any]]) -> dict[str, str]:
    """The ConfigMap's and the Secret's variables, as the containers' envFrom sees them."""
    variables: dict[str, str] = {}
    for item in objects:
        name = item["metadata"]["name"]
        if item["kind"] == "ConfigMap" and name.startswith("rapport-settings"):
            variables.update(item.get("data", {}))
        elif item["kind"] == "Secret" and name.startswith("rapport-secrets"):
            for key, value in item.get("data", {}).items():
                variables[key] = base64.b64decode(value).decode()
    return variables


def container_env_names(objects: list[dict[str, Any]]) -> Iterator[str]:
    for item in objects:
        template = item.get("spec", {}).get("template", {})
        for container in template.get("spec", {}).get("containers", []):
            for entry in container.get("env", []):
                yield entry["name"]


def refusal(variables: dict[str, str]) -> str | None:
    """What the services would say at start with exactly these variables, if anything."""
    saved = {key: value for key, value in os.environ.items() if key.startswith(PREFIX)}
    for key in saved:
        del os.environ[key]
    os.environ.update(variables)
    try:
        Settings()
    except ValidationError as error:
        return str(error)
    finally:
        for key in variables:
            del os.environ[key]
        os.environ.update(saved)
    return None


def compose_overrides() -> tuple[set[str], set[str]]:
    """docker-compose.yml's RAPPORT_ variables, and those of them that replace
    deploy/stack.env's (the hostnames)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    overridden = set(compose["x-rapport"]["environment"])
    every = set(overridden)
    for service in compose["services"].values():
        every.update(service.get("environment") or {})
    return {name for name in every if name.startswith(PREFIX)}, overridden


def check(dev_path: Path, production_path: Path) -> list[str]:
    problems = []
    compose_names, overridden = compose_overrides()
    for label, path in (("dev", dev_path), ("production", production_path)):
        objects = [item for item in yaml.safe_load_all(path.read_text()) if item]
        variables = settings_of(objects)
        if not variables:
            problems.append(f"{label}: no rapport-settings ConfigMap or rapport-secrets Secret")
        names = set(variables) | set(container_env_names(objects))
        if label == "dev":
            names |= compose_names
        for name in sorted(names):
            if name.startswith(PREFIX) and not names_a_setting(name):
                problems.append(f"{label}: {name} names no field of rapport_common/settings.py")
        reason = refusal(variables)
        if reason:
            problems.append(f"{label}: the services would refuse these settings: {reason}")
        if label == "dev":
            stack = env_file(ROOT / "deploy" / "stack.env")
            for name in sorted(set(stack) ^ set(variables)):
                where = "deploy/stack.env" if name in stack else "the dev overlay"
                problems.append(f"dev: {name} is only in {where}")
            for name in sorted(set(stack) & set(variables) - overridden):
                if stack[name] != variables[name]:
                    problems.append(
                        f"dev: {name} is {variables[name]!r}, deploy/stack.env says {stack[name]!r}"
                    )
    return problems


def main(arguments: list[str]) -> int:
    if arguments[:1] == ["throwaway-secrets"] and len(arguments) == 2:
        for name in env_file(Path(arguments[1])):
            print(f"{name}={secrets.token_urlsafe(48)}")
        return 0
    if arguments[:1] == ["check"] and len(arguments) == 3:
        problems = check(Path(arguments[1]), Path(arguments[2]))
        for problem in problems:
            print(f"ERROR {problem}", file=sys.stderr)
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
