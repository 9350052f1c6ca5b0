"""promote and rollback: the spec is edited in place (comments kept) and its output regenerated."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from conftest import run_cli
from routing import route


def comments(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def routing_docs(directory: Path, namespace: str, name: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((directory / namespace / name).glob("*.yaml"))]


def assert_output_is_a_fresh_generate(workdir: Path, spec: str) -> None:
    fresh = run_cli("generate", spec, "-o", "fresh", cwd=workdir)
    assert fresh.exit_code == 0, fresh.stderr
    ours = {k: v for k, v in tree(workdir / "output").items() if k != ".rollgen-state"}
    theirs = {k: v for k, v in tree(workdir / "fresh").items() if k != ".rollgen-state"}
    name = spec.rsplit("/", 1)[-1].removesuffix(".yaml")
    # the service's own files; the namespace and root kustomizations list every spec, not just this one
    assert {k: v for k, v in ours.items() if f"/{name}/" in k} == {k: v for k, v in theirs.items() if f"/{name}/" in k}


def test_promote_moves_the_canary_one_step_keeping_every_comment(workdir: Path):
    spec = workdir / "specs/backend.yaml"
    before = spec.read_text()
    result = run_cli("promote", "specs/backend.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    after = spec.read_text()
    assert comments(after) == comments(before)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [("    position: 1", "    position: 2")]
    assert "-    position: 1\n+    position: 2\n" in result.stdout
    assert "canary position 1 → 2: 'v2' takes 25% of traffic" in result.stderr
    assert route(routing_docs(workdir / "output", "production", "backend")) == {"backend/v1": 75, "backend/v2": 25}
    assert_output_is_a_fresh_generate(workdir, "specs/backend.yaml")


def test_dry_run_shows_the_diff_and_changes_nothing(workdir: Path):
    spec = workdir / "specs/orders.yaml"
    before = spec.read_bytes()
    result = run_cli("promote", "specs/orders.yaml", "--dry-run", cwd=workdir)
    assert result.exit_code == 0
    assert "+    position: 2" in result.stdout
    assert spec.read_bytes() == before
    assert not (workdir / "output").exists()


def test_promote_at_the_last_step_points_to_finalize(workdir: Path):
    spec = workdir / "specs/backend.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 5"))
    result = run_cli("promote", "specs/backend.yaml", cwd=workdir)
    assert result.exit_code == 1
    assert result.stderr.startswith("specs/backend.yaml:31:15: spec.canary.position: the canary is fully shifted "
                                    "(position 5 of 5); there is no next step\n"
                                    "  hint: run `rollgen promote specs/backend.yaml --finalize`")


def test_finalize_before_the_last_step_is_refused(workdir: Path):
    result = run_cli("promote", "specs/backend.yaml", "--finalize", cwd=workdir)
    assert result.exit_code == 1
    assert "the canary is at position 1 of 5; finalize only after the last step" in result.stderr
    assert "promote 4 more time(s) first" in result.stderr


def test_finalize_leaves_a_steady_service_on_the_new_version(workdir: Path):
    spec = workdir / "specs/orders.yaml"
    spec.write_text(spec.read_text().replace("position: 1", "position: 5"))
    assert run_cli("generate", cwd=workdir).exit_code == 0
    assert (workdir / "output/production/orders/deployment-orders-v1.yaml").exists()
    result = run_cli("promote", "specs/orders.yaml", "--finalize", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(spec.read_text())
    assert "canary" not in data["spec"]
    assert data["spec"]["versions"] == [{"name": "v2", "image": "registry.example.com/shop/orders:2.0.1",
                                         "replicas": 2}]
    assert spec.read_text().startswith("# yaml-language-server: $schema=../schemas/rollout.v1alpha1.json\n"
                                       "# Manual canary on Linkerd")
    assert not (workdir / "output/production/orders/deployment-orders-v1.yaml").exists()
    assert route(routing_docs(workdir / "output", "production", "orders")) == {"orders-v2": 100}
    assert "1 removed" in result.stderr or "removed" in result.stderr
    assert_output_is_a_fresh_generate(workdir, "specs/orders.yaml")


def test_rollback_puts_the_canary_back_to_position_0(workdir: Path):
    result = run_cli("rollback", "specs/checkout.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert "position: 0" in (workdir / "specs/checkout.yaml").read_text()
    docs = routing_docs(workdir / "output", "shop", "checkout")
    assert route(docs) == {"checkout-v1": 100, "checkout-v2": 0}
    assert route(docs, {"x-user-group": "beta-1"}) == {"checkout-v2": 100}  # testers stay: this is the spec
    again = run_cli("rollback", "specs/checkout.yaml", cwd=workdir)
    assert again.exit_code == 0
    assert again.stdout == ""
    assert "already at position 0" in again.stderr


def test_blue_green_promote_swaps_and_rollback_switches_back(workdir: Path):
    spec = workdir / "specs/billing.yaml"
    before = spec.read_text()
    result = run_cli("promote", "specs/billing.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(spec.read_text())["spec"]["blueGreen"]
    assert data == {"active": "green", "preview": "blue"}
    assert "# serves production traffic" in spec.read_text()
    docs = routing_docs(workdir / "output", "production", "billing")
    assert route(docs, {"x-version": "green"}) == {"billing-green.production.svc.cluster.local": 100}
    assert route(docs) == {"billing-green.production.svc.cluster.local": 100}
    assert (workdir / "output/production/billing/deployment-billing-blue.yaml").exists()
    assert_output_is_a_fresh_generate(workdir, "specs/billing.yaml")

    back = run_cli("rollback", "specs/billing.yaml", cwd=workdir)
    assert back.exit_code == 0, back.stderr
    assert yaml.safe_load(spec.read_text())["spec"]["blueGreen"] == {"active": "blue", "preview": "green"}
    assert comments(spec.read_text()) == comments(before)
    assert route(routing_docs(workdir / "output", "production", "billing")) == {
        "billing-blue.production.svc.cluster.local": 100}


def test_blue_green_rollback_before_any_cutover_is_refused(workdir: Path):
    result = run_cli("rollback", "specs/inventory.yaml", cwd=workdir)
    assert result.exit_code == 1
    assert result.stderr.startswith("specs/inventory.yaml:23:5: spec.blueGreen.test: 'green' is still being tested "
                                    "and has not been live")


def test_quoting_and_flow_style_survive_an_edit(workdir: Path):
    spec = workdir / "specs/inventory.yaml"
    text = spec.read_text().replace("    active: blue\n    preview: green\n    test:\n      header: x-version\n"
                                    "      exact: green\n",
                                    "    active: \"blue\"   # live\n    preview: 'green'\n")
    spec.write_text(text)
    result = run_cli("promote", "specs/inventory.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert "    active: \"green\"  # live\n    preview: 'blue'\n" in spec.read_text()


def test_strategies_without_steps_cannot_be_promoted(workdir: Path):
    ab = run_cli("promote", "specs/frontend.yaml", cwd=workdir)
    assert ab.exit_code == 1
    assert "spec.abTest: an A/B test has no order of steps to promote" in ab.stderr
    steady = run_cli("rollback", "specs/catalog.yaml", cwd=workdir)
    assert steady.exit_code == 1
    assert "nothing to roll back: the spec has no `canary` or `blueGreen` block" in steady.stderr


def test_a_failed_regenerate_restores_the_spec(workdir: Path):
    out = workdir / "elsewhere/production/backend"
    out.mkdir(parents=True)
    (out / "virtualservice-backend.yaml").write_text("# hand-written\n")
    before = (workdir / "specs/backend.yaml").read_bytes()
    result = run_cli("promote", "specs/backend.yaml", "-o", "elsewhere", cwd=workdir)
    assert result.exit_code == 1
    assert "the spec was restored" in result.stderr
    assert (workdir / "specs/backend.yaml").read_bytes() == before
    assert (out / "virtualservice-backend.yaml").read_text() == "# hand-written\n"


# --- emergency rollback ------------------------------------------------------------------------

def emergency(workdir: Path, spec: str) -> list[dict]:
    before = tree(workdir)
    result = run_cli("rollback", spec, "--emergency", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert tree(workdir) == before  # nothing edited, nothing written
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_emergency_rollback_prints_the_live_objects_with_everything_on_stable(workdir: Path):
    docs = emergency(workdir, "specs/backend.yaml")
    assert [(d["kind"], d["metadata"]["name"], d["metadata"]["namespace"]) for d in docs] == [
        ("DestinationRule", "backend", "production"), ("VirtualService", "backend", "production")]
    assert route(docs) == {"backend/v1": 100}
    assert route(docs, {"x-canary-user": "true"}) == {"backend/v1": 100}


def test_emergency_rollback_of_a_blue_green_drops_the_test_match(workdir: Path):
    docs = emergency(workdir, "specs/inventory.yaml")
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [("HTTPRoute", "inventory")]
    assert route(docs, {"x-version": "green"}) == {"inventory-blue": 100}
    assert len(docs[0]["spec"]["rules"]) == 1


def test_emergency_rollback_drops_header_routes_and_has_the_same_names_as_generate(workdir: Path):
    docs = emergency(workdir, "specs/profile.yaml")
    assert route(docs, {"x-user-region": "eu-west"}) == {"profile/v1": 100}
    assert run_cli("generate", cwd=workdir).exit_code == 0
    live = {(d["kind"], d["metadata"]["name"]) for d in routing_docs(workdir / "output", "production", "profile")
            if d["kind"] in ("VirtualService", "DestinationRule")}
    assert {(d["kind"], d["metadata"]["name"]) for d in docs} == live


def test_windows_line_ends_are_kept(workdir: Path):
    spec = workdir / "specs/backend.yaml"
    spec.write_bytes(spec.read_bytes().replace(b"\n", b"\r\n"))
    result = run_cli("promote", "specs/backend.yaml", "--dry-run", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n-") == 1 and "+    position: 2" in result.stdout


def test_an_edit_changes_only_the_lines_it_means_to(workdir: Path):
    """Lines a YAML round trip would rewrite (a document start, flow mappings inside a flow list, aligned
    values) are kept as written; only the moved field's line changes."""
    spec = workdir / "specs/shape.yaml"
    spec.write_text(
        "---\n"
        "apiVersion: rollgen/v1alpha1\n"
        "kind: Rollout\n"
        "metadata: {name: shape, namespace: production}\n"
        "spec:\n"
        "  mesh: linkerd\n"
        "  service: {port: 8080}\n"
        "  workload: {image: shape}\n"
        "  versions: [{name: v1}, {name: v2}]   # both run\n"
        "  canary:\n"
        "    stable:   v1\n"
        "    canary:   v2\n"
        "    steps:    [50, 100]\n"
        "    position: 1\n")
    before = spec.read_text()
    result = run_cli("promote", "specs/shape.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[2:] == ["@@ -13,2 +13,2 @@", "     steps:    [50, 100]",
                                              "-    position: 1", "+    position: 2"]
    assert spec.read_text() == before.replace("position: 1", "position: 2")
    back = run_cli("rollback", "specs/shape.yaml", cwd=workdir)
    assert back.exit_code == 0, back.stderr
    assert spec.read_text() == before.replace("position: 1", "position: 0")
    assert route(routing_docs(workdir / "output", "production", "shape")) == {"shape-v1": 100, "shape-v2": 0}


def test_a_blue_green_cutover_keeps_flow_style_versions(workdir: Path):
    spec = workdir / "specs/inventory.yaml"
    text = spec.read_text()
    lines = [line for line in text.splitlines() if line.startswith("  versions:")]
    assert lines, "inventory lists its versions"
    start = text.index("  versions:")
    end = text.index("\n  blueGreen:")
    flow = "  versions: [{name: blue}, {name: green}]"
    spec.write_text("---\n" + text[:start] + flow + text[end:])
    before = spec.read_text()
    assert run_cli("promote", "specs/inventory.yaml", cwd=workdir).exit_code == 0
    after = spec.read_text()
    assert after.startswith("---\n") and flow + "\n" in after
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert all("active" in line or "preview" in line or "test" in line or "header" in line or "exact" in line
               for line in changed), changed


def emergency_head(workdir: Path, spec: str) -> str:
    result = run_cli("rollback", spec, "--emergency", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    return "".join(line + "\n" for line in result.stdout.splitlines() if line.startswith("#"))


def test_emergency_rollback_after_a_blue_green_cutover_goes_back_to_the_previous_version(workdir: Path):
    assert run_cli("promote", "specs/billing.yaml", cwd=workdir).exit_code == 0  # green is live, blue kept
    docs = emergency(workdir, "specs/billing.yaml")
    assert route(docs) == {"billing-blue.production.svc.cluster.local": 100}
    assert "`rollgen rollback specs/billing.yaml`" in emergency_head(workdir, "specs/billing.yaml")
    # the GitOps rollback the header asks for routes exactly like the emergency objects
    assert run_cli("rollback", "specs/billing.yaml", cwd=workdir).exit_code == 0
    live = [d for d in routing_docs(workdir / "output", "production", "billing") if d["kind"] == "VirtualService"]
    for headers in ({}, {"x-version": "green"}):
        assert route(live, headers) == route(docs, headers)


def test_emergency_rollback_says_which_spec_edits_make_git_agree(workdir: Path):
    assert "(`rollgen rollback specs/backend.yaml`, remove `canary.testers`)" in emergency_head(
        workdir, "specs/backend.yaml")
    head = emergency_head(workdir, "specs/inventory.yaml")  # still testing green: nothing to roll back to
    assert "(remove `blueGreen.test`)" in head and "rollgen rollback" not in head
    assert "(replace the `abTest` block with `default: variant-a`)" in emergency_head(workdir, "specs/frontend.yaml")
    assert "(remove `routes`)" in emergency_head(workdir, "specs/api.yaml")
    head = emergency_head(workdir, "specs/catalog.yaml")
    assert "the spec already routes every request there" in head and "GitOps sync" not in head


def test_plan_of_a_blue_green_says_what_promote_and_rollback_would_do(workdir: Path):
    testing = run_cli("plan", "specs/inventory.yaml", cwd=workdir)
    assert "  promote  → active green, blue kept running as preview (the cutover; the test match is removed)\n" \
        in testing.stdout
    assert "  rollback → refused: green has never been live\n" in testing.stdout
    assert run_cli("promote", "specs/inventory.yaml", cwd=workdir).exit_code == 0
    live = run_cli("plan", "specs/inventory.yaml", cwd=workdir)
    assert "  preview  blue   running, reached by no request (kept for an instant switch)\n" in live.stdout
    assert "  rollback → active blue, green kept running as preview (the version before the cutover)\n" \
        in live.stdout


def test_a_position_the_spec_did_not_write_goes_next_to_the_steps(workdir: Path):
    spec = workdir / "specs/backend.yaml"
    text = spec.read_text()
    position = next(line for line in text.splitlines() if line.strip().startswith("position:"))
    spec.write_text(text.replace(position + "\n", "") + "  # the end of the spec\n")
    result = run_cli("promote", "specs/backend.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    lines = spec.read_text().splitlines()
    steps = next(i for i, line in enumerate(lines) if line.strip().startswith("steps:"))
    assert lines[steps + 1] == "    position: 1"
    assert lines[-1] == "  # the end of the spec"


def test_a_spec_that_is_a_link_is_edited_where_it_points(workdir: Path):
    real = workdir / "shared-specs"
    real.mkdir()
    (workdir / "specs/backend.yaml").rename(real / "backend.yaml")
    (workdir / "specs/backend.yaml").symlink_to("../shared-specs/backend.yaml")
    result = run_cli("promote", "specs/backend.yaml", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert (workdir / "specs/backend.yaml").is_symlink()
    assert "position: 2" in (real / "backend.yaml").read_text()


def test_finalize_keeps_a_flow_list_of_versions_in_braces(workdir: Path):
    spec = workdir / "specs/flow.yaml"
    spec.write_text("apiVersion: rollgen/v1alpha1\nkind: Rollout\nmetadata: {name: flow, namespace: production}\n"
                    "spec:\n  mesh: istio\n  service: {port: 8080}\n  workload: {image: flow}\n"
                    "  versions: [{name: v1}, {name: v2}]\n"
                    "  canary: {stable: v1, canary: v2, steps: [50, 100], position: 2}\n")
    result = run_cli("promote", "specs/flow.yaml", "--finalize", cwd=workdir)
    assert result.exit_code == 0, result.stderr
    assert "  versions: [{name: v2}]\n" in spec.read_text()
    assert yaml.safe_load(spec.read_text())["spec"] == {
        "mesh": "istio", "service": {"port": 8080}, "workload": {"image": "flow"}, "versions": [{"name": "v2"}]}


def test_comments_init_wrote_on_a_blue_green_stay_true_after_promote_and_rollback(tmp_path: Path):
    assert run_cli("init", "api", "--strategy", "blue-green", cwd=tmp_path).exit_code == 0
    spec = tmp_path / "specs" / "api.yaml"
    spec.write_text(spec.read_text().replace("    active: blue             # serves every request",
                                             "    active: blue             # serves every request  (ours)"))
    assert run_cli("generate", cwd=tmp_path).exit_code == 0
    result = run_cli("promote", "specs/api.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    text = spec.read_text()
    assert not any("test" in c for c in comments(text) if "active" not in c), text  # no `test` match is left
    assert "  blueGreen:                 # cut over: `rollgen rollback` switches back; `rollgen promote " \
           "--finalize` keeps active only\n" in text
    assert "    preview: blue            # the previous version, still running for `rollgen rollback`; " \
           "no request reaches it\n" in text
    assert "    active: green            # serves every request  (ours)\n" in text  # a comment of the user's stays
    result = run_cli("rollback", "specs/api.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    text = spec.read_text()
    assert "  blueGreen:                 # cutover = `rollgen promote` (swaps active and preview); both keep " \
           "running\n" in text
    assert "    preview: green           # rolled back from; still running, no request reaches it " \
           "(add `test` to reach it)\n" in text
    assert yaml.safe_load(text)["spec"]["blueGreen"] == {"active": "blue", "preview": "green"}


def test_a_comment_the_user_wrote_on_preview_is_kept_by_promote(tmp_path: Path):
    assert run_cli("init", "api", "--strategy", "blue-green", cwd=tmp_path).exit_code == 0
    spec = tmp_path / "specs" / "api.yaml"
    spec.write_text(spec.read_text().replace("# deployed alongside, reached only by requests matching `test`",
                                             "# the release candidate"))
    result = run_cli("promote", "specs/api.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "    preview: blue            # the release candidate\n" in spec.read_text()
