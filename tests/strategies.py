"""Hypothesis strategies for rollout specs.

`valid_specs()` draws a spec (as a plain dict, ready to dump as YAML) that rollgen must accept and
compile: any mesh, any traffic strategy, and the options around them (labels, ports, pod fragments,
version overrides, header routes). A traffic strategy is one function `(draw, versions, mesh) ->
{spec key: block}` listed in STRATEGIES with the number of versions it needs and the meshes it runs
on; a new strategy block (Flagger, analysis, ...) is a new function added there, and every property
test then covers it. `mutated_specs()` turns a valid spec into an invalid one.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import yaml
from hypothesis import strategies as st

MESHES = ("istio", "linkerd", "gateway-api")
SERVICE_NAME_MAX = 20  # keeps `<name>-<version>` well under 63 characters


def dns_label(max_len: int) -> st.SearchStrategy[str]:
    """A DNS-1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric."""
    return st.from_regex(rf"\A[a-z0-9]([a-z0-9-]{{0,{max_len - 2}}}[a-z0-9])?\Z", fullmatch=True)


def service_name(max_len: int) -> st.SearchStrategy[str]:
    """A DNS-1035 label (it names a Service): like a DNS-1123 label, but starting with a letter."""
    return st.from_regex(rf"\A[a-z]([a-z0-9-]{{0,{max_len - 2}}}[a-z0-9])?\Z", fullmatch=True)


label_values = st.from_regex(r"\A([A-Za-z0-9]([A-Za-z0-9_.-]{0,10}[A-Za-z0-9])?)?\Z", fullmatch=True)
label_keys = st.one_of(
    st.sampled_from(["team", "tier", "app.kubernetes.io/part-of", "example.com/owner", "cost-center"]),
    st.from_regex(r"\A[a-z][a-z0-9]{0,8}\Z", fullmatch=True).filter(lambda k: k not in ("app", "version")),
)
# Header values that are valid HTTP field values: visible ASCII and inner spaces.
header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=16)
header_names = st.one_of(st.sampled_from(["x-canary", "x-user-group", "x-tenant", "cookie", "user-agent"]),
                         st.from_regex(r"\Ax-[a-z0-9-]{1,12}\Z", fullmatch=True))
# RE2 patterns built from parts RE2 accepts (no back-references or look-around).
regex_parts = st.sampled_from(["[a-z]+", "[0-9]{1,3}", "(acme|globex)", "beta-.*", "v[0-9]+\\.[0-9]+",
                               "\\d+", "[^/]+", "foo", "(?i)chrome", "x?y*z+"])
regexes = st.lists(regex_parts, min_size=1, max_size=3).map("".join)
tags = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,8}\Z", fullmatch=True)


@st.composite
def pod_fragments(draw, container: str) -> dict | None:
    """A PodSpec fragment built from pieces real services use; None for no fragment."""
    if not draw(st.booleans()):
        return None
    pod: dict[str, Any] = {}
    app: dict[str, Any] = {"name": container}
    if draw(st.booleans()):
        pod["serviceAccountName"] = draw(dns_label(20))
    if draw(st.booleans()):
        app["env"] = [{"name": n, "value": v} for n, v in draw(st.dictionaries(
            st.from_regex(r"\A[A-Z][A-Z0-9_]{0,8}\Z", fullmatch=True), label_values, max_size=3)).items()]
    if draw(st.booleans()):
        cpu = draw(st.sampled_from(["50m", "100m", "1", "250m"]))
        memory = draw(st.sampled_from(["64Mi", "128Mi", "1Gi"]))
        app["resources"] = {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}
    if draw(st.booleans()):
        app["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"},
                                 "periodSeconds": draw(st.integers(1, 30))}
    if draw(st.booleans()):
        pod["volumes"] = [{"name": "config", "configMap": {"name": "app-config"}}, {"name": "tmp", "emptyDir": {}}]
        app["volumeMounts"] = [{"name": "config", "mountPath": "/etc/app"}, {"name": "tmp", "mountPath": "/tmp"}]
    if draw(st.booleans()):
        pod["nodeSelector"] = {"kubernetes.io/os": "linux"}
        pod["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}]
    containers = [app] if len(app) > 1 else []
    if draw(st.booleans()):
        containers.append({"name": "sidecar-proxy" if container != "sidecar-proxy" else "sidecar2",
                           "image": "registry.example.com/proxy:1.2.3", "args": ["--port", "15001"]})
    if containers:
        pod["containers"] = draw(st.permutations(containers))
    return pod


@st.composite
def versions(draw, count: int) -> list[dict]:
    names = draw(st.lists(st.one_of(st.from_regex(r"\Av[0-9]{1,3}\Z", fullmatch=True), dns_label(12)),
                          min_size=count, max_size=count, unique=True))
    out = []
    for name in names:
        version: dict[str, Any] = {"name": name}
        if draw(st.booleans()):
            version["image"] = f"registry.example.com/team/{draw(dns_label(10))}:{draw(tags)}"
        if draw(st.booleans()):
            version["replicas"] = draw(st.integers(0, 10))
        out.append(version)
    return out


@st.composite
def testers(draw) -> dict:
    kind = draw(st.sampled_from(["exact", "prefix", "regex"]))
    value = draw(regexes if kind == "regex" else header_values)
    return {"header": draw(header_names), kind: value}


def steady(draw, names: list[str], mesh: str) -> dict:
    """No strategy block: one version serving all traffic."""
    return {}


def canary(draw, names: list[str], mesh: str) -> dict:
    stable, new = draw(st.permutations(names))[:2]
    steps = sorted(draw(st.sets(st.integers(1, 99), max_size=6))) + [100]
    block: dict[str, Any] = {"stable": stable, "canary": new, "steps": steps}
    if draw(st.booleans()):
        block["position"] = draw(st.integers(0, len(steps)))
    if draw(st.booleans()):
        block["testers"] = draw(testers())
    return {"canary": block}


def blue_green(draw, names: list[str], mesh: str) -> dict:
    order = draw(st.permutations(names))
    block: dict[str, Any] = {"active": order[0]}
    if len(order) > 1 and draw(st.booleans()):
        block["preview"] = order[1]
        if draw(st.booleans()):
            block["test"] = draw(testers())
    return {"blueGreen": block}


def ab_test(draw, names: list[str], mesh: str) -> dict:
    chosen = draw(st.permutations(names))[: draw(st.integers(2, len(names)))]
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(chosen) - 1, max_size=len(chosen) - 1)))
    weights = [b - a for a, b in zip([0] + cuts, cuts + [100])]
    values = draw(st.lists(st.from_regex(r"\A[a-z0-9]{1,6}\Z", fullmatch=True), min_size=len(chosen),
                           max_size=len(chosen), unique=True))
    cookie: dict[str, Any] = {"name": draw(st.from_regex(r"\A[a-z][a-z0-9_-]{0,10}\Z", fullmatch=True))}
    if draw(st.booleans()):
        cookie["maxAge"] = draw(st.integers(1, 10**7))
    variants = [{"version": v, "value": val, "weight": w} for v, val, w in zip(chosen, values, weights)]
    return {"abTest": {"cookie": cookie, "variants": variants}}


def routes(draw, names: list[str], mesh: str, count: int | None = None) -> list[dict]:
    """Header routes, each to a version or to another host (on HTTPRoutes: a Service with its port)."""
    out = []
    for _ in range(draw(st.integers(1, 3)) if count is None else count):
        route: dict[str, Any] = {"match": draw(testers())}
        if draw(st.booleans()):
            route["version"] = draw(st.sampled_from(names))
        else:
            service = draw(dns_label(15).filter(lambda n: n[0].isalpha()))
            if mesh == "istio":
                route["host"] = draw(st.sampled_from([service, f"{service}.other.svc.cluster.local",
                                                      "api.example.com"]))
                if draw(st.booleans()):
                    route["port"] = draw(st.integers(1, 65535))
            else:
                route["host"] = draw(st.sampled_from([service, f"{service}.other.svc.cluster.local"]))
                route["port"] = draw(st.integers(1, 65535))
        out.append(route)
    return out


def routes_with_default(draw, names: list[str], mesh: str) -> dict:
    return {"routes": routes(draw, names, mesh), "default": draw(st.sampled_from(names))}


@st.composite
def analyses(draw, mesh: str) -> dict:
    """An analysis block: alerts on the version under test, from a metrics source the mesh has."""
    block: dict[str, Any] = {}
    metrics = draw(st.sampled_from([None, "app"] + ([mesh] if mesh in ("istio", "linkerd") else [])))
    if metrics:
        block["metrics"] = metrics
    watch = draw(st.sets(st.sampled_from(["successRate", "latency", "requestRate"]), min_size=1))
    if "successRate" in watch:
        block["successRate"] = {"min": draw(st.sampled_from([90, 99, 99.5, 99.9]))}
    if "latency" in watch:
        block["latency"] = {"percentile": draw(st.sampled_from([50, 90, 95, 99])),
                            "max": draw(st.sampled_from(["250ms", "1s", "1500ms"]))}
    if "requestRate" in watch:
        block["requestRate"] = {"min": draw(st.sampled_from([0.1, 1, 5]))}
    for key, choices in (("window", ["2m", "5m", "10m"]), ("for", ["1m", "2m", "5m"]), ("interval", ["15s", "30s", "1m"]),
                         ("alerts", ["prometheusRule", "configMap", "none"])):
        if draw(st.booleans()):
            block[key] = draw(st.sampled_from(choices))
    if draw(st.booleans()):
        block["labels"] = {"severity": draw(st.sampled_from(["critical", "warning"]))}
    if draw(st.booleans()):
        block["ruleLabels"] = {"release": "kube-prometheus-stack"}
    return block


# name -> (versions it needs (min, max), meshes it runs on, the function drawing its blocks)
STRATEGIES: dict[str, tuple[tuple[int, int], tuple[str, ...], Callable]] = {
    "steady": ((1, 1), MESHES, steady),
    "canary": ((2, 3), MESHES, canary),
    "blueGreen": ((1, 3), MESHES, blue_green),
    "abTest": ((2, 3), ("istio", "gateway-api"), ab_test),  # linkerd's HTTPRoute cannot set the cookie
    "routes": ((1, 3), MESHES, routes_with_default),
}


ANALYSED = ("canary", "blueGreen", "abTest")  # strategies with a version under test to watch


def real_service(draw, spec: dict, mesh: str, container: str) -> None:
    """The options of a real service, each maybe, as far as the mesh writes them: ingress gateways,
    request timeout and retries, further ports, Deployment options, pod metadata, per-version pods and
    (Istio) fault injection on the header routes."""
    service = spec["service"]
    if mesh != "linkerd" and draw(st.booleans()):
        gateway = f"{draw(dns_label(12))}/{draw(dns_label(12))}"
        if mesh == "gateway-api" and draw(st.booleans()):
            gateway += ":" + draw(st.sampled_from(["http", "https"]))
        ingress: dict[str, Any] = {"gateways": [gateway]}
        if mesh == "istio" or draw(st.booleans()):
            ingress["hosts"] = [draw(st.sampled_from(["shop.example.com", "api.example.org"]))]
        if draw(st.booleans()):
            ingress["mesh"] = draw(st.booleans())
        spec["ingress"] = ingress
    if draw(st.booleans()):
        service["timeout"] = draw(st.sampled_from(["5s", "1m30s", "500ms"]))
    if mesh == "istio" and draw(st.booleans()):
        service["retries"] = {"attempts": draw(st.integers(1, 5)), "perTryTimeout": "1s", "on": "5xx,reset"}
    if draw(st.booleans()):
        taken = {service["port"], service.get("targetPort", service["port"])}
        port = next(p for p in (9090, 9091, 9092) if p not in taken)
        service["additionalPorts"] = [{"name": "metrics", "port": port, "appProtocol": "http"}]
    workload = spec["workload"]
    if draw(st.booleans()):
        workload["deployment"] = {"minReadySeconds": draw(st.integers(0, 30)), "revisionHistoryLimit": 5,
                                  "strategy": {"rollingUpdate": {"maxUnavailable": draw(st.sampled_from([1, "25%"]))}}}
    if draw(st.booleans()):
        workload["podMetadata"] = {"labels": {"tier": "web"}, "annotations": {"prometheus.io/scrape": "true"}}
    for version in spec["versions"]:
        if draw(st.booleans()):
            version["pod"] = {"containers": [{"name": container, "args": [f"--version={version['name']}"]}]}
    if mesh == "istio":
        for route in spec.get("routes", ()):
            if draw(st.integers(0, 3)) == 0:
                route["fault"] = draw(st.sampled_from([{"abort": {"httpStatus": 503, "percent": 10}},
                                                        {"delay": {"fixed": "2s", "percent": 50}}]))


@st.composite
def valid_specs(draw, meshes=MESHES, strategies: tuple[str, ...] | None = None) -> dict:
    name = draw(service_name(SERVICE_NAME_MAX))
    metadata: dict[str, Any] = {"name": name}
    if draw(st.booleans()):
        metadata["namespace"] = draw(dns_label(20))
    if draw(st.booleans()):
        metadata["labels"] = draw(st.dictionaries(label_keys, label_values, max_size=3))
    strategy = draw(st.sampled_from(sorted(strategies or STRATEGIES)))
    (low, high), runs_on, blocks_of = STRATEGIES[strategy]
    mesh = draw(st.sampled_from([m for m in meshes if m in runs_on]))
    vs = draw(versions(draw(st.integers(low, high))))
    service: dict[str, Any] = {"port": draw(st.integers(1, 65535))}
    if draw(st.booleans()):
        service["targetPort"] = draw(st.integers(1, 65535))
    workload: dict[str, Any] = {"image": f"registry.example.com/{draw(dns_label(10))}/{name}"}
    if draw(st.booleans()):
        workload["replicas"] = draw(st.integers(0, 20))
    container = name
    if draw(st.booleans()):
        container = draw(dns_label(15))
        workload["container"] = container
    pod = draw(pod_fragments(container))
    if pod is not None:
        workload["pod"] = pod
    spec: dict[str, Any] = {"mesh": mesh, "service": service, "workload": workload, "versions": vs}
    names = [v["name"] for v in vs]
    spec.update(blocks_of(draw, names, mesh))
    if strategy not in ("steady", "routes") and draw(st.integers(0, 3)) == 0:
        spec["routes"] = routes(draw, names, mesh)  # header routes go with any strategy
    if strategy in ANALYSED and draw(st.booleans()):
        spec["analysis"] = draw(analyses(mesh))
    real_service(draw, spec, mesh, container)
    return {"apiVersion": "rollgen/v1alpha1", "kind": "Rollout", "metadata": metadata, "spec": spec}


@st.composite
def spec_texts(draw, specs: st.SearchStrategy[dict] | None = None) -> str:
    """A spec written out as YAML, in block or flow style, keys in order or sorted."""
    doc = draw(valid_specs() if specs is None else specs)
    return yaml.safe_dump(doc, sort_keys=draw(st.booleans()), default_flow_style=draw(st.sampled_from([False, None])),
                          width=draw(st.sampled_from([80, 4096])))


# --- invalid specs: each mutation makes a valid spec invalid -------------------------------------------

OWN_MAPPINGS = (("metadata",), ("spec",), ("spec", "service"), ("spec", "workload"))
WRONG_VALUES = {
    ("metadata", "name"): ["Backend", "../../etc", "a/b", "", "x" * 56, "-x", 7, ["a"]],
    ("metadata", "namespace"): ["Prod", "a/b", "..", 3, {"a": 1}],
    ("metadata", "labels"): ["team", [1], {"bad key!": "x"}, {"team": "no spaces"}, {"app": "x"}],
    ("spec", "mesh"): ["nginx", 1, None, ["istio"]],
    ("spec", "service", "port"): [0, 65536, -1, "http", 1.5, True],
    ("spec", "service", "targetPort"): [0, 70000, "8080x"],
    ("spec", "workload", "replicas"): [-1, "three", 2.5],
    ("spec", "workload", "image"): ["", "UPPER/Case", "repo with spaces", 5],
    ("spec", "workload", "pod"): ["pod", [1], {"containers": "x"}, {"restartPolicy": "Sometimes"},
                                  {"nodeSelector": {"a": 1}}],
    ("spec", "versions"): [[], "v1", None],
    ("spec", "canary", "steps"): [[], [50, 10, 100], [0, 100], [10, 101], [10, 50], "10,100", [10, 10, 100]],
    ("spec", "canary", "position"): [-1, 99, "first"],
    ("spec", "canary", "stable"): ["nope", 1],
    ("spec", "canary", "testers"): [{"header": "X-Upper", "exact": "a"}, {"header": "x-a"},
                                    {"header": "x-a", "exact": "a", "prefix": "b"}, {"header": "x-a", "regex": "(a"},
                                    {"header": "x-a", "regex": "(a)\\1"}, "x-canary",
                                    {"header": "x-a", "exact": "a\nb"}, {"header": "x-a", "prefix": ""}],
    ("spec", "blueGreen", "active"): ["nope", 1, None],
    ("spec", "blueGreen", "test"): [{"header": "x-a", "exact": "1", "regex": "a"}, 5],
    ("spec", "abTest", "variants"): [[], [{"version": "zz-none", "value": "a", "weight": 100}], "a"],
    ("spec", "abTest", "cookie"): [{"name": "bad cookie"}, {"name": "ab", "maxAge": 0}, None],
    ("spec", "routes"): ["x", [{"match": {"header": "x-a", "exact": "1"}}], [{"version": "v1"}]],
    ("spec", "default"): ["zz-none", 3],
    ("spec", "service", "timeout"): ["5 seconds", "1d", "0s", 5],
    ("spec", "service", "additionalPorts"): [[{"name": "http", "port": 1}], [{"name": "9000", "port": 9000}],
                                             [{"name": "a--b", "port": 9000}], "metrics"],
    ("spec", "workload", "deployment"): [{"replicas": 2}, {"selector": {}}, {"minReadySecond": 1},
                                         {"strategy": {"type": "Rolling"}}, "fast"],
    ("spec", "workload", "podMetadata"): [{"labels": {"app": "x"}}, {"labels": {"version": "x"}}, {"annotation": {}}],
}


def _get(doc: dict, path: tuple):
    for part in path:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


@st.composite
def mutated_specs(draw) -> tuple[str, str]:
    """(description, YAML text) of a spec that must be rejected."""
    doc = draw(valid_specs())
    kind = draw(st.sampled_from(["value", "unknown-field", "missing-field", "broken-yaml", "duplicate-key",
                                 "tab-indent", "not-a-mapping"]))
    if kind == "value":
        paths = [p for p in WRONG_VALUES if isinstance(_get(doc, p[:-1]), dict)]
        path = draw(st.sampled_from(paths))
        value = draw(st.sampled_from(WRONG_VALUES[path]))
        copy_ = copy.deepcopy(doc)
        _get(copy_, path[:-1])[path[-1]] = value
        return f"{'.'.join(path)} = {value!r}", yaml.safe_dump(copy_, sort_keys=False)
    if kind == "unknown-field":
        path = draw(st.sampled_from(OWN_MAPPINGS + ((("spec", "canary"),) if "canary" in doc["spec"] else ())))
        key = draw(st.sampled_from(["replica", "nmae", "strategy", "weight", "x-extra"]))
        copy_ = copy.deepcopy(doc)
        _get(copy_, path)[key] = draw(st.sampled_from([1, "x", None, [1]]))
        return f"unknown {'.'.join(path + (key,))}", yaml.safe_dump(copy_, sort_keys=False)
    if kind == "missing-field":
        path = draw(st.sampled_from([("apiVersion",), ("kind",), ("metadata", "name"), ("spec", "mesh"),
                                     ("spec", "service", "port"), ("spec", "workload", "image"), ("spec", "versions")]))
        copy_ = copy.deepcopy(doc)
        del _get(copy_, path[:-1])[path[-1]]
        return f"missing {'.'.join(path)}", yaml.safe_dump(copy_, sort_keys=False)
    text = yaml.safe_dump(doc, sort_keys=False)
    lines = text.splitlines(keepends=True)
    if kind == "broken-yaml":
        at = draw(st.integers(0, len(lines)))
        breaker = draw(st.sampled_from(["@oops\n", "`tick\n", "key: [unclosed\n", "key: \"unterminated\n",
                                        "]\n", "? [a, b]\n", "&anchor *alias\n"]))
        return f"broken YAML at line {at + 1}", "".join(lines[:at] + [breaker] + lines[at:])
    if kind == "duplicate-key":
        top = [i for i, line in enumerate(lines) if line.startswith(("apiVersion", "kind"))]
        at = draw(st.sampled_from(top))
        return "duplicate key", "".join(lines + [lines[at]])
    if kind == "tab-indent":
        indented = [i for i, line in enumerate(lines) if line.startswith("  ")]
        at = draw(st.sampled_from(indented))
        lines[at] = "\t" + lines[at].lstrip(" ")
        return f"tab at line {at + 1}", "".join(lines)
    return "not a mapping", draw(st.sampled_from(["- a\n- b\n", "just a string\n", "42\n", "~\n", "[]\n"]))
