"""``funchost deploy kubernetes``: a Deployment, a Service and KEDA objects for one app.

HTTP scales by concurrency through the KEDA HTTP add-on: an HTTPScaledObject routes and counts
requests, with its own ScaledObject creation turned off, because KEDA allows one ScaledObject
per workload and the app's queue, Service Bus and Event Hubs triggers share it; the add-on's
external scaler is one trigger of that ScaledObject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from funchost.host.deploy.scalers import DeployError, Scaling
from funchost.host.options import DEFAULT_SHUTDOWN_TIMEOUT

PORT = 80  # the image's FUNCHOST_PORT
RUN_AS = 10001  # the Dockerfile's user
HTTP_SCALER = "keda-add-ons-http-external-scaler.keda:9090"
SKIP_SCALEDOBJECT = "httpscaledobject.keda.sh/skip-scaledobject-creation"
HTTP_CONCURRENCY = 100  # in-flight requests per replica, the add-on's documented default
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")


@dataclass(frozen=True)
class Target:
    """Where and how the app runs: names, image, host name and replica bounds."""

    name: str
    image: str
    host: str
    max_replicas: int = 10

    @property
    def secret(self) -> str:
        """The Secret the connection settings come from (made by the user, never by us)."""
        return f"{self.name}-settings"

    @property
    def labels(self) -> dict[str, str]:
        """The labels every object carries and the Service selects on."""
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/managed-by": "funchost"}


def dns_name(text: str) -> str:
    """A folder name as a Kubernetes object name (lower case, dashes)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    if not _DNS_LABEL.fullmatch(name):
        raise DeployError(f"--name: {text!r} gives no valid Kubernetes name; pass --name")
    return name


def manifests(target: Target, scaling: Scaling) -> list[dict[str, Any]]:
    """Every object, in the order kubectl should create them."""
    docs = [deployment(target, scaling), service(target)]
    if scaling.http:
        docs.append(http_scaled_object(target, scaling))
    if scaled(scaling):
        docs.append(scaled_object(target, scaling))
    return docs


def _meta(target: Target, name: str | None = None) -> dict[str, Any]:
    return {"name": name or target.name, "labels": target.labels}


def deployment(target: Target, scaling: Scaling) -> dict[str, Any]:
    """The app's pods: the image, settings from the Secret, probes on the admin ping."""
    probe = {"httpGet": {"path": "/admin/host/ping", "port": "http"}, "periodSeconds": 10}
    container = {
        "name": "funchost",
        "image": target.image,
        "ports": [{"name": "http", "containerPort": PORT}],
        "env": [_secret_env(target, name) for name in scaling.settings]
        + [_secret_env(target, "FUNCTIONS_MASTER_KEY")],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 30},
        "securityContext": {"allowPrivilegeEscalation": False},
    }
    pod = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS},
        # funchost drains within its shutdown timeout; the kubelet waits a little longer.
        "terminationGracePeriodSeconds": int(DEFAULT_SHUTDOWN_TIMEOUT) + 5,
        "containers": [container],
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": target.labels},
        "template": {"metadata": {"labels": target.labels}, "spec": pod},
    }
    if not scaled(scaling):
        spec = {"replicas": 1, **spec}  # else KEDA's: a count here would fight it on apply
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(target), "spec": spec}


def _secret_env(target: Target, setting: str) -> dict[str, Any]:
    """An app setting read from the Secret by reference; optional, as a setting may be unset."""
    if not _SECRET_KEY.fullmatch(setting):
        raise DeployError(
            f"app setting '{setting}' cannot be a Secret key; expected letters, digits, "
            "'-', '_' or '.'"
        )
    ref = {"name": target.secret, "key": setting, "optional": True}
    return {"name": setting, "valueFrom": {"secretKeyRef": ref}}


def service(target: Target) -> dict[str, Any]:
    """The pods behind one cluster address, on the container's named port."""
    port = {"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(target),
        "spec": {"selector": target.labels, "ports": [port]},
    }


def http_scaled_object(target: Target, scaling: Scaling) -> dict[str, Any]:
    """The HTTP add-on's route and concurrency target; the ScaledObject below scales."""
    meta = {**_meta(target), "annotations": {SKIP_SCALEDOBJECT: "true"}}
    return {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": meta,
        "spec": {
            "hosts": [target.host],
            "scaleTargetRef": {"name": target.name, "service": target.name, "port": PORT},
            "replicas": {"min": _min_replicas(scaling), "max": target.max_replicas},
            "scalingMetric": {"concurrency": {"targetValue": HTTP_CONCURRENCY}},
        },
    }


def scaled_object(target: Target, scaling: Scaling) -> dict[str, Any]:
    """One ScaledObject for the Deployment with every scaler the app's triggers need."""
    triggers = list(scaling.triggers)
    if scaling.http:
        http = {"httpScaledObject": target.name, "scalerAddress": HTTP_SCALER}
        triggers.insert(0, {"type": "external-push", "metadata": http})
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _meta(target),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target.name},
            "minReplicaCount": _min_replicas(scaling),
            "maxReplicaCount": target.max_replicas,
            "triggers": triggers,
        },
    }


def scaled(scaling: Scaling) -> bool:
    """Whether KEDA scales the Deployment (HTTP, or a trigger it has a scaler for)."""
    return scaling.http or bool(scaling.triggers)


def _min_replicas(scaling: Scaling) -> int:
    """Zero when KEDA sees every trigger; one while a timer or blob scan must keep running."""
    return 1 if scaling.unscalable else 0
