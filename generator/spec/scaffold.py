"""`rollgen init`: a new spec, commented like the README's, that validates as written.

Each delivery strategy contributes its own versions and strategy block; a new strategy is one more
entry in STRATEGIES. Kept light (no model imports): the CLI reads STRATEGIES at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from generator.mesh import MESHES
from generator.names import API_VERSION



def _steady(name: str) -> str:
    return """\
  versions:                  # one version and no strategy block: all traffic to it (steady state)
    - name: v1               # Deployment {name}-v1, image {name}:v1 (set `image:` for another reference)
""".format(name=name)


def _canary(name: str) -> str:
    return """\
  versions:                  # each becomes Deployment {name}-<version>, pods labelled app + version
    - name: v1               # image {name}:v1 (the tag is the version name unless `image:` is set)
    - name: v2
  canary:                    # a stepped canary: raise `position` one step per reviewed commit
    stable: v1               # serves production traffic now
    canary: v2               # receives the step's share
    steps: [10, 25, 50, 75, 100]   # canary's share at each step, strictly increasing, last 100
    position: 0                    # live steps: 0 = all on stable, 5 = fully shifted
    # testers:                     # optional: matching requests always reach the canary
    #   header: x-canary-user
    #   exact: "true"              # exactly one of exact | prefix | regex (RE2, whole value)
""".format(name=name)


# The comments `rollgen init` writes on a blue/green's keys that depend on where it stands: promote and
# rollback (edit.py) rewrite them, when still as written, so that they stay true.
BLUE_GREEN_COMMENTS = {
    "testing": {"blueGreen": "cutover = `rollgen promote` (swaps active and preview); both keep running",
                "preview": "deployed alongside, reached only by requests matching `test`"},
    "cut over": {"blueGreen": "cut over: `rollgen rollback` switches back; `rollgen promote --finalize` keeps active only",
                 "preview": "the previous version, still running for `rollgen rollback`; no request reaches it"},
    "rolled back": {"blueGreen": "cutover = `rollgen promote` (swaps active and preview); both keep running",
                    "preview": "rolled back from; still running, no request reaches it (add `test` to reach it)"},
}


def _blue_green(name: str) -> str:
    comment = BLUE_GREEN_COMMENTS["testing"]
    return """\
  versions:                  # each becomes Deployment {name}-<version>, pods labelled app + version
    - name: blue             # image {name}:blue (the tag is the version name unless `image:` is set)
    - name: green
  blueGreen:                 # {block}
    active: blue             # serves every request
    preview: green           # {preview}
    test:
      header: x-version
      exact: green           # exactly one of exact | prefix | regex (RE2, whole value)
""".format(name=name, block=comment["blueGreen"], preview=comment["preview"])


def _ab_test(name: str) -> str:
    return """\
  versions:                  # each becomes Deployment {name}-<version>, pods labelled app + version
    - name: variant-a        # image {name}:variant-a (the tag is the version name unless `image:` is set)
    - name: variant-b
  abTest:                    # new users are split by weight; a cookie keeps each on its variant
    cookie:
      name: ab-test
      maxAge: 86400          # seconds the assignment lasts; leave out for a session cookie
    variants:                # weights sum to 100
      - {{version: variant-a, value: a, weight: 50}}
      - {{version: variant-b, value: b, weight: 50}}
""".format(name=name)


def _flagger_tail(strategy: str) -> Callable[[str], str]:
    blocks = {
        "canary": """\
  canary:                    # Flagger adds stepWeight% every interval while the checks pass, up to maxWeight
    stepWeight: 10
    maxWeight: 50            # a multiple of stepWeight; or `steps: [5, 10, 25, 50]` instead of both
""",
        "blue-green": """\
  blueGreen:                 # the checks run against the new version with no live traffic, then all switches
    iterations: 5
""",
        "ab-test": """\
  abTest:                    # only matching requests reach the new version while the checks run
    iterations: 10
    match:
      - {header: x-user-type, exact: beta}   # any of these; exactly one of exact | prefix | regex
""",
    }

    def tail(name: str) -> str:
        return blocks[strategy] + """\
  analysis:
    interval: 1m             # Flagger's analysis interval (seconds or minutes)
    threshold: 5             # failed checks before Flagger rolls back
    successRate: {{min: 99}}   # Flagger's builtin request-success-rate
    latency: {{max: 500ms}}    # Flagger's builtin request-duration (P99)
  webhooks:                  # run by flagger-loadtester (install it with a Platform spec)
    - {{name: load-test, type: rollout, timeout: 5s, cmd: "hey -z 1m -q 10 -c 2 http://{name}-canary.NAMESPACE:8080/"}}
  # flagger:
  #   provider: gatewayapi:v1   # default: istio on istio; gatewayapi:v1 on linkerd and gateway-api
""".format(name=name)
    return tail


def _argo_canary(name: str) -> str:
    return """\
  versions:                  # the Rollout {name} runs the canary's; the controller keeps the stable running
    - name: v1               # image {name}:v1 (the tag is the version name unless `image:` is set)
    - name: v2
  canary:                    # Argo Rollouts steps through it; `kubectl argo rollouts promote` at each pause
    stable: v1               # the version running now (the Rollout's stable ReplicaSet)
    canary: v2               # the Rollout's pod template
    steps: [10, 25, 50, 75, 100]   # canary's share at each step, strictly increasing, last 100
    # stepDuration: 10m            # hold each step this long; default: pause until promoted
    # testers:                     # optional: a header route to the canary before the first step
    #   header: x-canary-user
    #   exact: "true"              # exactly one of exact | prefix | regex
""".format(name=name)


def _argo_blue_green(name: str) -> str:
    return """\
  versions:                  # the Rollout {name} runs the preview's; the controller keeps the active running
    - name: blue             # image {name}:blue (the tag is the version name unless `image:` is set)
    - name: green
  blueGreen:                 # cutover = `kubectl argo rollouts promote` (switches {name}-active to green)
    active: blue             # serves every request
    preview: green           # the Rollout's pod template, reached only by requests matching `test`
    test:
      header: x-version
      exact: green           # exactly one of exact | prefix | regex
""".format(name=name)


STRATEGIES: dict[str, Callable[[str], str]] = {
    "steady": _steady,
    "canary": _canary,
    "blue-green": _blue_green,
    "ab-test": _ab_test,
    # delivery: flagger — Flagger runs the versions; the spec says how it analyses and shifts
    "flagger-canary": _flagger_tail("canary"),
    "flagger-blue-green": _flagger_tail("blue-green"),
    "flagger-ab-test": _flagger_tail("ab-test"),
    # delivery: argo-rollouts — the Argo Rollouts controller steps, analyses and promotes
    "argo-canary": _argo_canary,
    "argo-blue-green": _argo_blue_green,
}


def schema_reference(spec_path: Path, schema_path: Path, cwd: Path) -> str:
    """The schema as seen from the spec's directory (yaml-language-server resolves it relative to the file)."""
    spec_dir = (cwd / spec_path).resolve().parent
    return Path(os.path.relpath((cwd / schema_path).resolve(), spec_dir)).as_posix()


def scaffold_spec(name: str, namespace: str, mesh: str, strategy: str, schema_ref: str) -> str:
    head = f"""\
# yaml-language-server: $schema={schema_ref}
# The rollout of {name}: edit this file, then `rollgen generate` (`rollgen plan` shows the traffic).
# Every field is described in the schema above; editors with yaml-language-server show it on hover.
apiVersion: {API_VERSION}
kind: Rollout
metadata:
  name: {name}
  namespace: {namespace}
  # labels: {{team: payments}}   # optional, added to every generated object
spec:
  mesh: {mesh:<20} # {MESHES[mesh].scaffold_note}
  service:
    port: 8080               # the port the Service exposes
    # targetPort: 8080       # the container's port; default = port
  workload:
    image: {name:<17} # image repository; a version's tag is its name unless it sets image
    replicas: 2
    # pod:                   # optional PodSpec fragment merged into every version's pod template
    #   serviceAccountName: {name}
    #   containers:          # the container named like `container` (default: metadata.name) is merged
    #     - name: {name}
    #       resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
"""
    if strategy.startswith("flagger-"):
        head = head.replace(f"spec:\n  mesh: {mesh:<20} # {MESHES[mesh].scaffold_note}\n",
                            f"spec:\n  delivery: flagger          # Flagger shifts traffic, analyses, promotes or rolls back\n"
                            f"  mesh: {mesh:<20} # Flagger generates the routing and the Services\n")
        head = head.replace(f"    image: {name:<17} # image repository; a version's tag is its name unless it sets image\n",
                            f"    image: {name + ':v1':<17} # the full image: a release is a change of it\n")
        # The replicas are held by an autoscaler on the application container's CPU: it needs a request.
        head = head.replace(
            f"""    replicas: 2
    # pod:                   # optional PodSpec fragment merged into every version's pod template
    #   serviceAccountName: {name}
    #   containers:          # the container named like `container` (default: metadata.name) is merged
    #     - name: {name}
    #       resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
""", f"""    replicas: 2              # or autoscaling: {{min: 2, max: 4, cpu: 80}} (on the container's CPU)
    pod:                     # PodSpec fragment merged into the pod template
      # serviceAccountName: {name}
      containers:            # the container named like `container` (default: metadata.name) is merged
        - name: {name}
          resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}   # the CPU the replicas' autoscaler measures
""")
        body = STRATEGIES[strategy](name).replace("NAMESPACE", namespace)
        if mesh == "linkerd":
            # Flagger's Linkerd default is the Gateway API provider, whose builtins do not read Linkerd's metrics.
            body = body.replace("# Flagger's builtin request-success-rate", "# a MetricTemplate on Linkerd's metrics")
            body = body.replace("# Flagger's builtin request-duration (P99)", "# a MetricTemplate (P99, milliseconds)")
        return head + body
    if strategy.startswith("argo-"):
        head = head.replace(f"spec:\n  mesh: {mesh:<20} # {MESHES[mesh].scaffold_note}\n",
                            "spec:\n  delivery: argo-rollouts    # the Argo Rollouts controller shifts traffic and promotes\n"
                            f"  mesh: {mesh:<20} # a Rollout and the routing objects its controller steers\n")
        head = head.replace("    # pod:                   # optional PodSpec fragment merged into every version's pod template",
                            "    # pod:                   # optional PodSpec fragment merged into the Rollout's pod template")
    return head + STRATEGIES[strategy](name)
