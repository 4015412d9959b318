"""`funchost deploy kubernetes`: manifests checked structurally (no cluster runs here).

Every object must have the fields its kind requires, name what the others name (labels and
selectors, ports, the scale target), and each KEDA trigger only the metadata keys its scaler
reads, every value a string. No setting's value may appear: only references to a Secret.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import APPS, run_funchost

from funchost.host.deploy.yamltext import documents

REPO = Path(__file__).resolve().parents[2]
APP = APPS / "k8s_app"
KINDS = {
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"),
}
# KEDA's scalers: (required metadata keys, optional ones), as its documentation lists them.
SCALERS = {
    "azure-queue": ({"queueName"}, {"queueLength", "connectionFromEnv", "accountName"}),
    "azure-servicebus": (
        set(),
        {"queueName", "topicName", "subscriptionName", "messageCount", "connectionFromEnv"},
    ),
    "azure-eventhub": (
        {"connectionFromEnv", "storageConnectionFromEnv"},
        {"eventHubName", "consumerGroup", "unprocessedEventThreshold", "checkpointStrategy"},
    ),
    "external-push": ({"scalerAddress"}, {"httpScaledObject"}),
}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def generate(app: Path, *args: str) -> tuple[str, list[dict[str, Any]]]:
    result = run_funchost(["deploy", "kubernetes", "--print", *args], app)
    assert result.returncode == 0, result.stderr
    return result.stdout, [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {doc["kind"]: doc for doc in docs}
    assert len(found) == len(docs), "one object of each kind"
    return found


def check_structure(docs: list[dict[str, Any]]) -> None:
    """Fields, pairs and references every manifest set must get right."""
    for doc in docs:
        assert (doc["apiVersion"], doc["kind"]) in KINDS
        assert DNS_LABEL.fullmatch(doc["metadata"]["name"])
        assert doc["metadata"]["labels"]["app.kubernetes.io/name"]
    objects = by_kind(docs)
    deployment, service = objects["Deployment"], objects["Service"]
    pod = deployment["spec"]["template"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert container["name"] and container["image"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for svc_port in service["spec"]["ports"]:
        assert svc_port["targetPort"] in ports and isinstance(svc_port["port"], int)
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert (get["path"], get["port"] in ports) == ("/admin/host/ping", True)
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    env = {entry["name"]: entry for entry in container["env"]}
    for entry in env.values():
        assert set(entry) == {"name", "valueFrom"}, f"{entry['name']} has a value, not a reference"
        assert entry["valueFrom"]["secretKeyRef"]["key"] == entry["name"]
    scaled = objects.get("ScaledObject")
    if scaled is not None:
        check_scaled_object(scaled, deployment, set(env), objects.get("HTTPScaledObject"))


def check_scaled_object(
    scaled: dict[str, Any],
    deployment: dict[str, Any],
    env: set[str],
    http: dict[str, Any] | None,
) -> None:
    spec = scaled["spec"]
    target = spec["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
    assert target["name"] == deployment["metadata"]["name"]
    assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert "replicas" not in deployment["spec"]  # KEDA's to set
    for trigger in spec["triggers"]:
        required, optional = SCALERS[trigger["type"]]
        meta = trigger["metadata"]
        assert required <= set(meta) <= required | optional, trigger
        assert all(isinstance(v, str) for v in meta.values()), "KEDA metadata is strings"
        for key in ("connectionFromEnv", "storageConnectionFromEnv"):
            if key in meta:
                assert meta[key] in env, f"{meta[key]} is not set in the Deployment"
        if trigger["type"] == "azure-servicebus":
            assert ("queueName" in meta) != ("subscriptionName" in meta and "topicName" in meta)
    pushed = [t for t in spec["triggers"] if t["type"] == "external-push"]
    assert bool(pushed) == (http is not None)
    if http is not None:
        assert pushed[0]["metadata"]["httpScaledObject"] == http["metadata"]["name"]
        annotations = http["metadata"]["annotations"]
        assert annotations["httpscaledobject.keda.sh/skip-scaledobject-creation"] == "true"
        ref = http["spec"]["scaleTargetRef"]
        assert ref["name"] == deployment["metadata"]["name"]
        assert http["spec"]["hosts"] and http["spec"]["scalingMetric"]["concurrency"]
        assert http["spec"]["replicas"]["min"] == spec["minReplicaCount"]


def test_every_trigger_kind_becomes_its_scaler_with_secret_references() -> None:
    text, docs = generate(APP, "--image", "registry.example/k8s-app:1.0")
    check_structure(docs)
    objects = by_kind(docs)
    assert list(objects) == ["Deployment", "Service", "HTTPScaledObject", "ScaledObject"]
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/k8s-app:1.0"
    assert [e["name"] for e in container["env"]] == [
        "AzureWebJobsStorage",
        "EventHubs",
        "ORDERS_QUEUE",
        "ServiceBus",
        "FUNCTIONS_MASTER_KEY",
    ]
    triggers = objects["ScaledObject"]["spec"]["triggers"]
    assert [t["type"] for t in triggers] == [
        "external-push",
        "azure-queue",
        "azure-servicebus",
        "azure-servicebus",
        "azure-eventhub",
    ]
    assert triggers[1]["metadata"]["queueName"] == "orders"  # %ORDERS_QUEUE% resolved
    assert triggers[3]["metadata"]["topicName"] == "events"
    hub = triggers[4]["metadata"]
    assert (hub["eventHubName"], hub["consumerGroup"]) == ("telemetry", "k8s")
    assert hub["connectionFromEnv"] == "EventHubs"
    # The timer keeps one replica running: KEDA cannot see its work.
    assert objects["ScaledObject"]["spec"]["minReplicaCount"] == 1
    for secret in ("SharedAccessKey", "UseDevelopmentStorage", "not-a-real-key"):
        assert secret not in text


def test_an_http_only_app_scales_to_zero() -> None:
    _, docs = generate(REPO / "examples" / "hello", "--name", "Hello App", "--host", "hello.x")
    check_structure(docs)
    objects = by_kind(docs)
    assert objects["Deployment"]["metadata"]["name"] == "hello-app"
    assert objects["ScaledObject"]["spec"]["minReplicaCount"] == 0
    assert objects["HTTPScaledObject"]["spec"]["hosts"] == ["hello.x"]


def test_an_app_keda_cannot_scale_runs_one_replica_and_no_scaled_object() -> None:
    _, docs = generate(APPS / "timer_basic")
    check_structure(docs)
    objects = by_kind(docs)
    assert list(objects) == ["Deployment", "Service"]
    assert objects["Deployment"]["spec"]["replicas"] == 1


def test_an_unresolved_setting_names_the_function_and_setting(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(APP, app)
    settings = json.loads((app / "local.settings.json").read_text())
    del settings["Values"]["ORDERS_QUEUE"]
    (app / "local.settings.json").write_text(json.dumps(settings))
    result = run_funchost(["deploy", "kubernetes", "--print"], app)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr == (
        "funchost: function 'process_order': 'queueName' is '%ORDERS_QUEUE%', but app "
        "setting 'ORDERS_QUEUE' is not set; expected it in the environment or "
        "local.settings.json, since the scaler needs the resolved name\n"
    )


def test_the_committed_example_matches_what_the_command_writes(tmp_path: Path) -> None:
    result = run_funchost(
        ["deploy", "kubernetes", "--out", str(tmp_path), "--image", "registry.example/k8s-app:1.0"],
        APP,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    committed = REPO / "deploy" / "kubernetes"
    assert written == sorted(p.name for p in committed.glob("*.yaml"))
    for name in written:
        assert (tmp_path / name).read_text() == (committed / name).read_text(), name


@pytest.mark.parametrize(
    "value",
    ["$Default", "true", "5", "keda:9090", "a b", "", "-x", "null", "3.0", "é", 'say "hi"'],
)
def test_yaml_text_reads_back_as_the_same_string(value: str) -> None:
    doc = {"k": value, "list": [value, {"inner": value}], "empty": {}, "n": 3, "flag": False}
    assert next(yaml.safe_load_all(documents([doc]))) == doc


def test_functions_option_describes_only_those_functions() -> None:
    _, docs = generate(APP, "--functions", "take_order")
    check_structure(docs)
    objects = by_kind(docs)
    assert objects["ScaledObject"]["spec"]["minReplicaCount"] == 0  # no timer among them
    assert [t["type"] for t in objects["ScaledObject"]["spec"]["triggers"]] == ["external-push"]
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["AzureWebJobsStorage", "FUNCTIONS_MASTER_KEY"]
