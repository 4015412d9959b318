"""``funchost deploy``: manifests for engines that already scale (Kubernetes with KEDA)."""
