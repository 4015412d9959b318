"""``funchost deploy kubernetes``: its options, and printing or writing the manifests."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from funchost.host.deploy import kubernetes, scalers, yamltext
from funchost.host.option_ranges import COUNT
from funchost.worker.indexer import FunctionSpec


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``funchost deploy kubernetes``."""
    deploy = sub.add_parser("deploy", help="manifests for an engine that scales the app")
    engines = deploy.add_subparsers(dest="engine", required=True)
    k8s = engines.add_parser(
        "kubernetes", help="a Deployment, a Service and KEDA ScaledObjects from the app's triggers"
    )
    add_common(k8s)
    where = k8s.add_mutually_exclusive_group()
    where.add_argument("--print", action="store_true", help="print the manifests (YAML)")
    where.add_argument(
        "--out",
        type=Path,
        default=Path("deploy/kubernetes"),
        help="write one file per object here (default: deploy/kubernetes under --script-root)",
    )
    k8s.add_argument("--name", help="the objects' name (default: the app folder's name)")
    k8s.add_argument("--image", help="the container image (default: NAME:latest)")
    k8s.add_argument(
        "--host",
        help="the host name HTTP requests arrive with, for the HTTP add-on (default: NAME)",
    )
    k8s.add_argument(
        "--max-replicas",
        type=COUNT,
        default=10,
        help="the most replicas KEDA may run (default: 10)",
    )


def render(
    args: argparse.Namespace,
    script_root: Path,
    specs: list[FunctionSpec],
    settings: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The manifests for the loaded functions."""
    if args.functions:  # --functions: only these, as `funchost start` would serve
        specs = [spec for spec in specs if spec.name in args.functions]
    name = kubernetes.dns_name(args.name or script_root.name)
    target = kubernetes.Target(
        name=name,
        image=args.image or f"{name}:latest",
        host=args.host or name,
        max_replicas=args.max_replicas,
    )
    return kubernetes.manifests(target, scalers.scaling(specs, settings))


def emit(args: argparse.Namespace, script_root: Path, docs: list[dict[str, Any]]) -> None:
    """Print them, or write one file per object and name the files."""
    if args.print:
        print(yamltext.documents(docs), end="")
        return
    folder = args.out if args.out.is_absolute() else script_root / args.out
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        path = folder / f"{doc['kind'].lower()}.yaml"
        path.write_text(yamltext.documents([doc]), encoding="utf-8")
        print(path)
