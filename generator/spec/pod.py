"""Pod templates: the generated application container merged with the user's PodSpec fragment."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from generator.packages import package_folder
from generator.spec.validation import Validator

# Fields of the application container that rollgen owns (set from the spec, not from the fragment).
OWNED_CONTAINER_FIELDS = ("image",)
K8S_SCHEMA_VERSION = "v1.30.0-local-strict"


def merge_pod(fragment: dict | None, container: dict[str, Any]) -> tuple[dict, int]:
    """Return the pod spec and the index of the application container in it.

    The fragment's container named like `container["name"]` is merged into the generated container
    (fragment keys win, except the ones rollgen owns); the generated `http` port is kept unless the
    fragment already declares the same containerPort. Other containers keep their order.
    """
    pod = copy.deepcopy(fragment) if fragment else {}
    containers = pod.get("containers")
    if not isinstance(containers, list):
        containers = []
    index = next((i for i, c in enumerate(containers) if isinstance(c, dict) and c.get("name") == container["name"]), None)
    mine = dict(container)
    if index is None:
        containers.insert(0, mine)
        index = 0
    else:
        theirs = containers[index]
        merged = dict(mine)
        for key, value in theirs.items():
            if key in OWNED_CONTAINER_FIELDS:
                continue
            if key == "ports" and isinstance(value, list):
                wanted = mine.get("ports", [])
                have = {p.get("containerPort") for p in value if isinstance(p, dict)}
                merged["ports"] = [p for p in wanted if p["containerPort"] not in have] + value
                continue
            merged[key] = value
        containers[index] = merged
    pod_out = {"containers": containers}
    pod_out.update({k: v for k, v in pod.items() if k != "containers"})
    return pod_out, index


# Lists of a pod fragment merged entry by entry, by `name`, when a version's fragment overlays the workload's.
NAMED_LISTS = ("containers", "initContainers", "volumes")


def overlay_pod(base: dict | None, over: dict | None) -> dict | None:
    """A version's PodSpec fragment merged over the workload's: maps key by key, the named lists
    (containers, init containers, volumes) entry by entry by name, every other value replaced."""
    if not over:
        return copy.deepcopy(base) if base else base
    if not base:
        return copy.deepcopy(over)
    return _overlay(base, over)


def _overlay(base, over, key=None):
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            out[k] = _overlay(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if key in NAMED_LISTS and isinstance(base, list) and isinstance(over, list):
        out = copy.deepcopy(base)
        for item in over:
            name = item.get("name") if isinstance(item, dict) else None
            at = next((i for i, b in enumerate(out) if isinstance(b, dict) and name is not None
                       and b.get("name") == name), None)
            if at is None:
                out.append(copy.deepcopy(item))
            else:
                out[at] = _overlay(out[at], item)
        return out
    return copy.deepcopy(over)


def _k8s_schemas() -> Path:
    """The folder of Kubernetes' JSON schemas that the kubernetes-validate package ships (its code, which
    imports jsonschema, is not run: only a refused document needs jsonschema)."""
    folder = package_folder("kubernetes_validate")
    if folder is None:
        raise ModuleNotFoundError("kubernetes_validate (a declared dependency) is not installed")
    return folder / "kubernetes-json-schema" / K8S_SCHEMA_VERSION


# Where the Kubernetes schemas' `$ref`s point: "/api/_definitions.json" against their `$id`s
# (https://kubernetes.io/api/...).
_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"


@lru_cache(maxsize=4)
def _k8s_validator(schema_file: str):
    """One of Kubernetes' schemas with its definitions: jsonschema-rs's verdict, jsonschema's errors
    (see generator.spec.validation). The integer widths (`format: int32`/`int64`) are checked as
    bounds by the fast engine, which applies formats to strings only."""
    schema = json.loads(_k8s_schemas().joinpath(schema_file).read_text("utf-8"))
    return Validator(_integer_bounds(schema), lambda: _k8s_explainer(schema_file),
                     {_DEFINITIONS_URI: _bounded_definitions()})


@lru_cache(maxsize=1)
def _bounded_definitions() -> dict:
    """Kubernetes' definitions (1 MB of JSON) as the fast engine reads them, shared by every schema."""
    return _integer_bounds(json.loads(_k8s_schemas().joinpath("_definitions.json").read_text("utf-8")))


def _integer_bounds(schema):
    """`schema` with each `format: int32`/`int64` also written as the minimum and maximum it means."""
    if isinstance(schema, dict):
        width = schema.get("format")
        if isinstance(width, str) and width in _INTEGER_RANGES and "minimum" not in schema and "maximum" not in schema:
            schema["minimum"], schema["maximum"] = -_INTEGER_RANGES[width], _INTEGER_RANGES[width] - 1
        for value in schema.values():
            _integer_bounds(value)
    elif isinstance(schema, list):
        for value in schema:
            _integer_bounds(value)
    return schema


def _k8s_explainer(schema_file: str):
    """jsonschema's validator for one of Kubernetes' schemas, whose errors become diagnostics."""
    import jsonschema
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS
    from referencing import Registry
    from referencing.jsonschema import DRAFT7, specification_with

    base = _k8s_schemas()
    definitions = json.loads(base.joinpath("_definitions.json").read_text("utf-8"))
    schema = json.loads(base.joinpath(schema_file).read_text("utf-8"))
    registry = Registry().with_resource("/api/_definitions.json", DRAFT7.create_resource(definitions))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    # The resolver jsonschema would make roots the registry at the schema without crawling it, and every
    # validation then crawls the whole schema again at its first reference (half a millisecond for a
    # PodSpec, once per pod fragment of every spec). The same resolver, its registry crawled once here:
    root = specification_with(cls.META_SCHEMA["$schema"], default=DRAFT7).create_resource(schema)
    uri = root.id() or ""
    crawled = SPECIFICATIONS.combine(registry).with_resource(uri, root).crawl()
    return cls(schema, registry=registry, format_checker=_integer_formats(),
               _resolver=crawled.resolver(base_uri=uri))


def _podspec_validator():
    return _k8s_validator("podspec-v1.json")


_INTEGER_RANGES = {"int32": 2**31, "int64": 2**63}


def _integer_formats():
    """The integer widths the schema names (`format: int32`/`int64`): the API server decodes into them."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    for name, bound in _INTEGER_RANGES.items():
        checker.checks(name)(lambda value, bound=bound: not isinstance(value, int) or -bound <= value < bound)
    return checker


def podspec_errors(pod: dict) -> list[tuple[tuple, str]]:
    """Problems in a merged pod spec against Kubernetes' own PodSpec schema: (path, message)."""
    return schema_errors(pod, "podspec-v1.json", "PodSpec")


def deploymentspec_errors(spec: dict) -> list[tuple[tuple, str]]:
    """Problems in DeploymentSpec fields against Kubernetes' own DeploymentSpec schema: (path, message)."""
    return schema_errors(spec, "deploymentspec-apps-v1.json", "DeploymentSpec")


def schema_errors(document: dict, schema_file: str, what: str) -> list[tuple[tuple, str]]:
    """Problems in a document against one of Kubernetes' own schemas: (path, message)."""
    out = []
    for error in _k8s_validator(schema_file).iter_errors(document):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            known = set(error.schema.get("properties", {}))
            for key in sorted(k for k in error.instance if k not in known):
                out.append((path + (key,), f"unknown field {key!r} (not part of the Kubernetes {what})"))
            continue
        if error.validator == "type":
            expected = error.validator_value
            expected = [t for t in (expected if isinstance(expected, list) else [expected]) if t != "null"]
            out.append((path, f"expected {' or '.join(expected)}, got {json.dumps(error.instance)[:60]}"))
            continue
        if error.validator == "format" and error.validator_value in _INTEGER_RANGES:
            bits = error.validator_value[3:]
            out.append((path, f"must fit in a {bits}-bit integer (got {error.instance})"))
            continue
        if error.validator == "oneOf" and all("type" in option for option in error.validator_value):
            # Quantity and IntOrString: a string or a number
            expected = [t for option in error.validator_value
                        for t in (option["type"] if isinstance(option["type"], list) else [option["type"]]) if t != "null"]
            out.append((path, f"expected {' or '.join(expected)}, got {json.dumps(error.instance)[:60]}"))
            continue
        if error.validator == "required":
            out.append((path, error.message.replace("is a required property", "is required")))
            continue
        out.append((path, error.message))
    return sorted(out, key=lambda e: (len(e[0]), [str(p) for p in e[0]], e[1]))
