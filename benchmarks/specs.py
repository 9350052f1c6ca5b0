"""Synthesise N rollout specs for the benchmark: a deterministic mix of meshes and strategies."""

from __future__ import annotations

from pathlib import Path

MESHES = ("istio", "linkerd", "gateway-api")
TESTERS = (None, ("x-canary-user", "exact", '"true"'), ("x-user-group", "prefix", "beta-"),
           ("x-tenant", "regex", '"(acme|globex)-[0-9]+"'))


def spec_text(i: int, revision: int = 0) -> str:
    """Spec number `i`: a mix of steady services and stepped canaries across the three meshes.

    `revision` changes one value (the canary position or replicas) so a benchmark can edit a spec.
    """
    mesh = MESHES[i % len(MESHES)]
    name = f"svc{i:04d}"
    namespace = f"team{i % 7}"
    steady = i % 5 == 4
    lines = [
        "apiVersion: rollgen/v1alpha1",
        "kind: Rollout",
        "metadata:",
        f"  name: {name}",
        f"  namespace: {namespace}",
        f"  labels: {{team: team{i % 7}, tier: {'web' if i % 2 else 'api'}}}",
        "spec:",
        f"  mesh: {mesh}",
        "  service:",
        f"    port: {8080 + i % 3}",
        "  workload:",
        f"    image: registry.example.com/shop/{name}",
        f"    replicas: {2 + (i + revision) % 3}",
        "    pod:",
        f"      serviceAccountName: {name}",
        "      containers:",
        f"        - name: {name}",
        "          resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}",
        "          env: [{name: LOG_LEVEL, value: info}, {name: REGION, value: eu-west-1}]",
        "          readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}",
        "  versions:",
    ]
    if steady:
        lines += ["    - name: v3"]
        return "\n".join(lines) + "\n"
    lines += ["    - name: v1", "    - name: v2", "      replicas: 1",
              "  canary:", "    stable: v1", "    canary: v2", "    steps: [5, 10, 25, 50, 75, 100]",
              f"    position: {(i + revision) % 7}"]
    tester = TESTERS[i % len(TESTERS)]
    if tester:
        header, kind, value = tester
        lines += ["    testers:", f"      header: {header}", f"      {kind}: {value}"]
    return "\n".join(lines) + "\n"


def write_specs(directory: Path, n: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = directory / f"svc{i:04d}.yaml"
        path.write_text(spec_text(i))
        paths.append(path)
    return paths
