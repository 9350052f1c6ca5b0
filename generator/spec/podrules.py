"""The merged pod's values, checked as the Kubernetes API server checks them.

Kubernetes' JSON schema (see pod.py) gives every field's type but not its format: a quantity is "a
string or a number", a port name "a string". These rules follow the API server's own validation
(k8s.io/kubernetes pkg/apis/core/validation and k8s.io/apimachinery's quantity parser and name
rules) for Kubernetes 1.30, the version of the PodSpec schema rollgen checks against, so what
`generate` accepts is what the API server admits. Where the API server admits a value the kubelet
can never act on (a probe on a port name the container does not have), that is an error too.

Each rule yields a `PodProblem` whose path is relative to the pod spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from typing import Any, Iterator

from generator.names import LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN


@dataclass(frozen=True)
class PodProblem:
    path: tuple
    message: str
    hint: str
    severity: str = "error"
    key: bool = False  # point at the key rather than the value


# --- names (k8s.io/apimachinery/pkg/util/validation) ---------------------------------------------

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_LABEL_HINT = "at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
_PORT_NAME_HINT = ("a port name (IANA_SVC_NAME) is at most 15 lowercase letters, digits and single '-', "
                   "with at least one letter, not starting or ending with '-'")
# Kubernetes 1.30 without the alpha RelaxedEnvironmentVariableValidation gate (on by default from 1.32)
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_HTTP_HEADER_NAME = re.compile(r"[-A-Za-z0-9]+")
_LABEL_KEY = re.compile(LABEL_KEY_PATTERN)
_LABEL_VALUE = re.compile(LABEL_VALUE_PATTERN)


def dns1123_label_error(value: str) -> str | None:
    if len(value) > 63:
        return f"must be at most 63 characters (got {len(value)})"
    if not _DNS1123_LABEL.fullmatch(value):
        return "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit"
    return None


def port_name_errors(name: str) -> list[str]:
    """The API server's IsValidPortName: one message per rule broken, in its order."""
    out = []
    if len(name) > 15:
        out.append(f"must be no more than 15 characters (got {len(name)})")
    if not re.fullmatch(r"[-a-z0-9]+", name):
        out.append("must contain only lowercase letters (a-z), digits (0-9) and '-'")
    if not re.search(r"[a-z]", name):
        out.append("must contain at least one letter (a-z)")
    if "--" in name:
        out.append("must not contain consecutive '-'")
    if name.startswith("-") or name.endswith("-"):
        out.append("must not begin or end with '-'")
    return out


def label_key_error(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if not _LABEL_KEY.fullmatch(key):
        return "is not a valid label key"
    if len(name) > 63:
        return f"is not a valid label key: the name after the prefix is {len(name)} characters, at most 63"
    if len(prefix) > 253:
        return f"is not a valid label key: the prefix is {len(prefix)} characters, at most 253"
    return None


# --- quantities (k8s.io/apimachinery/pkg/api/resource) --------------------------------------------

_DIGITS = "0123456789"
_SUFFIX_LETTERS = "eEinumkKMGTP"
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_INT64_MAX = 2**63 - 1
# wide enough that no quantity's exponent overflows (the API server caps huge values instead of refusing them)
_WIDE = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)


def quantity_text(value: Any) -> str | None:
    """The text the API server parses for a quantity written as a YAML value (None: not a scalar)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def _scan_quantity(text: str) -> tuple[bool, str, str, str] | None:
    """apimachinery's parseQuantityString: (positive, numerator, denominator, suffix), None for ErrFormatWrong."""
    pos, end = 0, len(text)
    positive = True
    if pos < end and text[0] in "+-":
        positive = text[0] == "+"
        pos += 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    i = pos
    while i < end and text[i] in _DIGITS:
        i += 1
    num = text[pos:i] or "0"
    denom = ""
    if i < end and text[i] == ".":
        j = i + 1
        while j < end and text[j] in _DIGITS:
            j += 1
        denom = text[i + 1:j]
        i = j
    start = i
    while i < end and text[i] in _SUFFIX_LETTERS:
        i += 1
    if i < end and text[i] in "+-":
        i += 1
    while i < end and text[i] in _DIGITS:
        i += 1
    if i < end:
        return None
    return positive, num, denom, text[start:]


def parse_quantity(text: str) -> Decimal | None:
    """The value of a Kubernetes quantity, or None when resource.ParseQuantity refuses it.

    A port of k8s.io/apimachinery/pkg/api/resource ParseQuantity: it is laxer than its documented
    grammar (a lone sign, "." or suffix is zero), and refuses every space. (The API server's JSON
    decoder trims spaces around a quantity first; rollgen refuses them, so that the committed value
    is the one the cluster stores.)
    """
    if not text:
        return None
    scanned = _scan_quantity(text)
    if scanned is None:
        return None
    positive, num, denom, suffix = scanned
    amount = Decimal(f"{num}.{denom or '0'}")
    if not positive:
        amount = -amount
    if suffix in _BINARY:
        return _WIDE.multiply(amount, Decimal(2) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return _WIDE.scaleb(amount, _DECIMAL[suffix])
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        exponent = int(suffix[1:])
        if abs(exponent) > _INT64_MAX:
            return None
        return _WIDE.scaleb(amount, max(min(exponent, 10**9), -10**9))
    return None


def show_quantity(value: Any) -> str:
    text = quantity_text(value)
    return f'"{text}"' if isinstance(value, str) else str(text)


# --- the rules -------------------------------------------------------------------------------------

_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_QUANTITY_HINT = "a quantity is a number with an optional suffix and no spaces: cpu `100m`, `0.5`, `2`; " \
                 "memory `128Mi`, `1.5Gi`, `1e9`"
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_PROTOCOLS = ("TCP", "UDP", "SCTP")
_ENUMS = {  # container fields whose values the API server checks against a fixed list
    "imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "terminationMessagePolicy": ("File", "FallbackToLogsOnError"),
}
_POD_ENUMS = {
    "dnsPolicy": ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"),
    "preemptionPolicy": ("PreemptLowerPriority", "Never"),
}


def _dicts(items: Any) -> Iterator[tuple[int, dict]]:
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield i, item


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pod_value_problems(pod: dict) -> list[PodProblem]:
    """Every value in the merged pod spec that the API server (or, where noted, the kubelet) refuses."""
    out: list[PodProblem] = []
    out += _names_and_volumes(pod)
    grace = pod.get("terminationGracePeriodSeconds")
    grace = grace if _is_int(grace) else 30
    for group in ("initContainers", "containers"):
        for i, container in _dicts(pod.get(group)):
            base = (group, i)
            out += _image(container, base)
            out += _container_ports(container, base)
            out += _resources(container.get("resources"), base + ("resources",))
            out += _env(container, base)
            out += _mounts(container, base, pod)
            for field, allowed in _ENUMS.items():
                out += _enum(container.get(field), allowed, base + (field,))
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if isinstance(container.get(probe), dict):
                    out += _probe(container[probe], probe, container, base + (probe,))
            lifecycle = container.get("lifecycle")
            if isinstance(lifecycle, dict):
                for hook in ("postStart", "preStop"):
                    if isinstance(lifecycle.get(hook), dict):
                        out += _handler(lifecycle[hook], _LIFECYCLE_HANDLERS, container,
                                        base + ("lifecycle", hook), grace)
    out += _port_names_across_containers(pod)
    for field, allowed in _POD_ENUMS.items():
        out += _enum(pod.get(field), allowed, (field,))
    out += _node_selector(pod.get("nodeSelector"))
    return out


def _image(container: dict, base: tuple) -> list[PodProblem]:
    """The API server admits a pod template without images, then refuses every pod made from it."""
    image = container.get("image")
    if image is None or image == "":
        return [PodProblem(base, f"container {container.get('name')!r} has no image: the Deployment would be admitted, "
                           "but the API server refuses every pod it creates", "add `image: <repository>:<tag>`")]
    if isinstance(image, str) and image != image.strip():
        return [PodProblem(base + ("image",), f"must not have leading or trailing whitespace (got {image!r})",
                           "remove the spaces around the image reference")]
    return []


def _enum(value: Any, allowed: tuple[str, ...], path: tuple) -> list[PodProblem]:
    if isinstance(value, str) and value not in allowed:
        return [PodProblem(path, f"must be one of {', '.join(allowed)} (got {value!r})",
                           "the API server accepts exactly these values, capitalised as shown")]
    return []


def _names_and_volumes(pod: dict) -> list[PodProblem]:
    out = []
    seen: dict[str, str] = {}
    for group in ("initContainers", "containers"):
        for i, container in _dicts(pod.get(group)):
            name = container.get("name")
            if not isinstance(name, str):
                continue
            problem = dns1123_label_error(name)
            if problem:
                out.append(PodProblem((group, i, "name"), f"container name {name!r} {problem}", _DNS1123_LABEL_HINT))
            elif name in seen:
                out.append(PodProblem((group, i, "name"), f"another container of the pod is already named {name!r}",
                                      "every container and init container of a pod needs its own name"))
            seen.setdefault(name, group)
    volumes: dict[str, int] = {}
    for i, volume in _dicts(pod.get("volumes")):
        name = volume.get("name")
        if isinstance(name, str):
            problem = dns1123_label_error(name)
            if problem:
                out.append(PodProblem(("volumes", i, "name"), f"volume name {name!r} {problem}", _DNS1123_LABEL_HINT))
            elif name in volumes:
                out.append(PodProblem(("volumes", i, "name"), f"volume name {name!r} is already volumes[{volumes[name]}]'s",
                                      "every volume of a pod needs its own name"))
            volumes.setdefault(name, i)
        sources = [k for k in volume if k != "name"]
        if not sources:
            out.append(PodProblem(("volumes", i), f"volume {name!r} has no volume type" if isinstance(name, str) else "a volume has no volume type",
                                  "add its source, e.g. `emptyDir: {}`, `configMap: {name: ...}` or "
                                  "`persistentVolumeClaim: {claimName: ...}`"))
        for extra in sources[1:]:
            out.append(PodProblem(("volumes", i, extra),
                                  f"a volume has one volume type, but {name!r} has {' and '.join(sources)}",
                                  "split it into one volume per source", key=True))
        empty = volume.get("emptyDir")
        if isinstance(empty, dict) and "sizeLimit" in empty:
            out += _quantity(empty["sizeLimit"], ("volumes", i, "emptyDir", "sizeLimit"))
    return out


def _mounts(container: dict, base: tuple, pod: dict) -> list[PodProblem]:
    out = []
    volumes = {v.get("name") for _, v in _dicts(pod.get("volumes")) if isinstance(v.get("name"), str)}
    paths: dict[str, int] = {}
    for j, mount in _dicts(container.get("volumeMounts")):
        path = base + ("volumeMounts", j)
        name = mount.get("name")
        if isinstance(name, str) and name not in volumes:
            out.append(PodProblem(path + ("name",), f"volume {name!r} is not one of the pod's volumes",
                                  "add it under `volumes:` or mount one that is there"))
        mount_path = mount.get("mountPath")
        if isinstance(mount_path, str):
            if mount_path in paths:
                out.append(PodProblem(path + ("mountPath",),
                                      f"mountPath {mount_path!r} is already volumeMounts[{paths[mount_path]}]'s",
                                      "each mount of a container needs its own path"))
            paths.setdefault(mount_path, j)
        sub = mount.get("subPath")
        if isinstance(sub, str):
            if sub.startswith("/"):
                out.append(PodProblem(path + ("subPath",), f"subPath {sub!r} must be a relative path",
                                      "a subPath is a path inside the volume, e.g. `config/app.yaml`"))
            elif ".." in sub.split("/"):
                out.append(PodProblem(path + ("subPath",), f"subPath {sub!r} must not contain '..'",
                                      "a subPath stays inside the volume"))
    return out


def _container_ports(container: dict, base: tuple) -> list[PodProblem]:
    out = []
    names: dict[str, int] = {}
    for j, port in _dicts(container.get("ports")):
        path = base + ("ports", j)
        name = port.get("name")
        if isinstance(name, str) and name:
            problems = port_name_errors(name)
            for problem in problems:
                out.append(PodProblem(path + ("name",), f"port name {name!r} {problem}", _PORT_NAME_HINT))
            if not problems and name in names:
                out.append(PodProblem(path + ("name",), f"another port of this container is already named {name!r}",
                                      "each port of a container needs its own name"
                                      + (" (rollgen names the service's target port `http`)" if name == "http" else "")))
            names.setdefault(name, j)
        for field in ("containerPort", "hostPort"):
            value = port.get(field)
            if _is_int(value) and not (field == "hostPort" and value == 0) and not 1 <= value <= 65535:
                out.append(PodProblem(path + (field,), f"must be between 1 and 65535, inclusive (got {value})",
                                      "a port number is 1 to 65535"))
        protocol = port.get("protocol")
        if isinstance(protocol, str) and protocol not in _PROTOCOLS:
            out.append(PodProblem(path + ("protocol",), f"must be one of TCP, UDP, SCTP (got {protocol!r})",
                                  "protocols are upper case"))
    return out


def _port_names_across_containers(pod: dict) -> list[PodProblem]:
    """The API server warns (it does not refuse) when two containers of a pod name a port alike."""
    out = []
    first: dict[str, str] = {}
    for i, container in _dicts(pod.get("containers")):
        mine = set()
        for j, port in _dicts(container.get("ports")):
            name = port.get("name")
            if not isinstance(name, str) or not name or port_name_errors(name) or name in mine:
                continue
            mine.add(name)
            if name in first:
                out.append(PodProblem(("containers", i, "ports", j, "name"),
                                      f"port name {name!r} is also a port of container {first[name]!r}: Services "
                                      f"and probes that name it reach that one",
                                      "give each container's ports their own names", severity="warning"))
            else:
                first[name] = str(container.get("name"))
    return out


def _quantity(value: Any, path: tuple) -> list[PodProblem]:
    text = quantity_text(value)
    if text is None:
        return []  # a type error: the schema reports it
    amount = parse_quantity(text)
    if amount is None:
        detail = " (quantities have no spaces)" if text != text.replace(" ", "") else ""
        return [PodProblem(path, f"{show_quantity(value)} is not a Kubernetes quantity{detail}", _QUANTITY_HINT)]
    if amount < 0:
        return [PodProblem(path, f"must be greater than or equal to 0 (got {text})", "a quantity here is never negative")]
    return []


def _extended(name: str) -> bool:
    return "/" in name and "kubernetes.io/" not in name and not name.startswith("requests.")


def _resources(resources: Any, base: tuple) -> list[PodProblem]:
    if not isinstance(resources, dict):
        return []
    out = []
    parsed: dict[str, dict[str, Decimal]] = {"limits": {}, "requests": {}}
    for kind in ("limits", "requests"):
        given = resources.get(kind)
        if not isinstance(given, dict):
            continue
        for name, value in given.items():
            if not isinstance(name, str):
                continue
            path = base + (kind, name)
            if "/" not in name and name not in _STANDARD_RESOURCES and not name.startswith("hugepages-"):
                out.append(PodProblem(path, f"{name!r} is not a resource of a container",
                                      "standard resources are cpu, memory, ephemeral-storage and hugepages-<size>; "
                                      "others are extended resources named <domain>/<name>, e.g. nvidia.com/gpu",
                                      key=True))
                continue
            if "/" in name and label_key_error(name):
                out.append(PodProblem(path, f"{name!r} is not a valid extended resource name",
                                      "an extended resource is named <domain>/<name>, e.g. nvidia.com/gpu", key=True))
                continue
            problems = _quantity(value, path)
            out += problems
            if problems or quantity_text(value) is None:
                continue
            amount = parse_quantity(quantity_text(value))
            if _extended(name) and amount != amount.to_integral_value():
                out.append(PodProblem(path, f"an extended resource is a whole number (got {quantity_text(value)})",
                                      "extended resources are counted in whole devices"))
                continue
            parsed[kind][name] = amount
    limits, requests = parsed["limits"], parsed["requests"]
    given_limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    given_requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    for name, amount in requests.items():
        path = base + ("requests", name)
        if _extended(name) or name.startswith("hugepages-"):
            # not overcommittable: the API server wants the request and the limit equal
            if name not in given_limits:
                out.append(PodProblem(path, f"{'an extended resource' if _extended(name) else name} needs a limit equal "
                                      "to its request",
                                      f"add `limits: {{{name}: {quantity_text(given_requests[name])}}}`"))
            elif name in limits and limits[name] != amount:
                out.append(PodProblem(path, f"must be equal to the limit of "
                                      f"{quantity_text(given_limits[name])} (got {quantity_text(given_requests[name])})",
                                      f"{name} cannot be overcommitted: request what the limit says"))
        elif name in limits and amount > limits[name]:
            out.append(PodProblem(path, f"{quantity_text(given_requests[name])} is more than "
                                  f"limits.{name} {quantity_text(given_limits[name])}",
                                  "a request is at most its limit: lower the request or raise the limit"))
    named = {n for n in (*given_limits, *given_requests) if isinstance(n, str)}
    huge = sorted(n for n in named if isinstance(n, str) and n.startswith("hugepages-"))
    if huge and not named & {"cpu", "memory"}:
        kind = "limits" if huge[0] in given_limits else "requests"
        out.append(PodProblem(base + (kind, huge[0]), "hugepages require a cpu or memory request or limit too",
                              "add `memory:` (or `cpu:`) next to it", key=True))
    return out


def _env(container: dict, base: tuple) -> list[PodProblem]:
    out = []
    name_hint = ("Kubernetes 1.30 accepts letters, digits, '_', '-' and '.', not starting with a digit, "
                 "e.g. MY_VAR or my.env-name")
    for j, var in _dicts(container.get("env")):
        path = base + ("env", j)
        name = var.get("name")
        if isinstance(name, str) and not _ENV_NAME.fullmatch(name):
            out.append(PodProblem(path + ("name",), f"environment variable name {name!r} is not valid", name_hint))
        source = var.get("valueFrom")
        if isinstance(source, dict):
            if var.get("value") not in (None, ""):
                out.append(PodProblem(path + ("valueFrom",), "may not be set when `value` is not empty",
                                      "keep `value` or `valueFrom`", key=True))
            given = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef") if k in source]
            if not given:
                out.append(PodProblem(path + ("valueFrom",),
                                      "must name one source: fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef",
                                      "e.g. `valueFrom: {secretKeyRef: {name: <secret>, key: <key>}}`", key=True))
            for extra in given[1:]:
                out.append(PodProblem(path + ("valueFrom", extra),
                                      f"valueFrom has one source, but here it has {' and '.join(given)}",
                                      "keep one of them", key=True))
    for j, ref in _dicts(container.get("envFrom")):
        prefix = ref.get("prefix")
        if isinstance(prefix, str) and prefix and not _ENV_NAME.fullmatch(prefix):
            out.append(PodProblem(base + ("envFrom", j, "prefix"), f"prefix {prefix!r} is not a valid environment "
                                  "variable name", name_hint))
    return out


def _port_ref(port: Any, container: dict, path: tuple) -> list[PodProblem]:
    if _is_int(port):
        if not 1 <= port <= 65535:
            return [PodProblem(path, f"must be between 1 and 65535, inclusive (got {port})", "a port number is 1 to 65535")]
        return []
    if not isinstance(port, str):
        return []
    problems = port_name_errors(port)
    if problems:
        hint = ("a number in quotes is a name: write the port number without quotes"
                if port.isdigit() else _PORT_NAME_HINT)
        return [PodProblem(path, f"port name {port!r} {p}", hint) for p in problems]
    names = [p.get("name") for _, p in _dicts(container.get("ports"))]
    if port not in names:
        shown = ", ".join(repr(n) for n in names if isinstance(n, str)) or "none"
        return [PodProblem(path, f"container {container.get('name')!r} has no port named {port!r} (its port names: "
                           f"{shown}); the API server accepts it, but the kubelet fails every check of it",
                           "name a port of this container, or give the port number")]
    return []


def _handler(handler: dict, kinds: tuple[str, ...], container: dict, path: tuple, grace: int) -> list[PodProblem]:
    out = []
    given = [k for k in kinds if k in handler and handler[k] is not None]
    if not given:
        out.append(PodProblem(path, f"must specify a handler type: one of {', '.join(kinds)}",
                              "e.g. `httpGet: {path: /healthz, port: http}`", key=True))
    for extra in given[1:]:
        out.append(PodProblem(path + (extra,), f"may not specify more than 1 handler type (got {' and '.join(given)})",
                              "keep one of them", key=True))
    exec_ = handler.get("exec")
    if isinstance(exec_, dict) and not exec_.get("command"):
        out.append(PodProblem(path + ("exec",), "needs a `command`", "e.g. `exec: {command: [cat, /tmp/ready]}`", key=True))
    get = handler.get("httpGet")
    if isinstance(get, dict):
        out += _port_ref(get.get("port"), container, path + ("httpGet", "port"))
        scheme = get.get("scheme")
        if isinstance(scheme, str) and scheme not in ("HTTP", "HTTPS"):
            out.append(PodProblem(path + ("httpGet", "scheme"), f"must be one of HTTP, HTTPS (got {scheme!r})",
                                  "schemes are upper case"))
        for k, header in _dicts(get.get("httpHeaders")):
            name = header.get("name")
            if isinstance(name, str) and not _HTTP_HEADER_NAME.fullmatch(name):
                out.append(PodProblem(path + ("httpGet", "httpHeaders", k, "name"),
                                      f"{name!r} is not an HTTP header name", "letters, digits and '-' only"))
    socket = handler.get("tcpSocket")
    if isinstance(socket, dict):
        out += _port_ref(socket.get("port"), container, path + ("tcpSocket", "port"))
    grpc = handler.get("grpc")
    if isinstance(grpc, dict) and _is_int(grpc.get("port")) and not 1 <= grpc["port"] <= 65535:
        out.append(PodProblem(path + ("grpc", "port"), f"must be between 1 and 65535, inclusive (got {grpc['port']})",
                              "a port number is 1 to 65535"))
    sleep = handler.get("sleep")
    if "sleep" in kinds and isinstance(sleep, dict) and _is_int(sleep.get("seconds")) and not 0 < sleep["seconds"] <= grace:
        out.append(PodProblem(path + ("sleep", "seconds"),
                              f"must be greater than 0 and at most terminationGracePeriodSeconds ({grace}), "
                              f"got {sleep['seconds']}",
                              "sleep less, or raise the pod's terminationGracePeriodSeconds"))
    return out


def _probe(probe: dict, kind: str, container: dict, path: tuple) -> list[PodProblem]:
    out = _handler(probe, _PROBE_HANDLERS, container, path, 0)
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        value = probe.get(field)
        if _is_int(value) and value < 0:
            out.append(PodProblem(path + (field,), f"must be greater than or equal to 0 (got {value})",
                                  "0 or leaving it out takes Kubernetes' default"))
    success = probe.get("successThreshold")
    if kind != "readinessProbe" and _is_int(success) and success > 1:
        out.append(PodProblem(path + ("successThreshold",), f"must be 1 for a {kind} (got {success})",
                              "one success is enough to pass: only a readinessProbe may ask for more"))
    grace = probe.get("terminationGracePeriodSeconds")
    if kind == "readinessProbe" and grace is not None:
        out.append(PodProblem(path + ("terminationGracePeriodSeconds",), "must not be set for a readinessProbe",
                              "a failing readiness probe never restarts the container: remove it", key=True))
    elif _is_int(grace) and grace <= 0:
        out.append(PodProblem(path + ("terminationGracePeriodSeconds",), f"must be greater than 0 (got {grace})",
                              "leave it out to use the pod's terminationGracePeriodSeconds"))
    return out


def _node_selector(selector: Any) -> list[PodProblem]:
    if not isinstance(selector, dict):
        return []
    out = []
    for key, value in selector.items():
        if not isinstance(key, str):
            continue
        problem = label_key_error(key)
        if problem:
            out.append(PodProblem(("nodeSelector", key), f"key {key!r} {problem}",
                                  "a label key is an optional DNS prefix and `/`, then a name of letters, digits, "
                                  "'-', '_', '.'", key=True))
        if isinstance(value, str) and (len(value) > 63 or not _LABEL_VALUE.fullmatch(value)):
            out.append(PodProblem(("nodeSelector", key), f"must be a valid label value, got {value!r}",
                                  "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter "
                                  "or digit"))
    return out
