"""`python -m portico_devcluster up|down`: the local control plane for `make demo`, with real
Argo CD beside it when asked (`--with-argocd`)."""

import argparse
import os
import sys
from pathlib import Path

from portico_devcluster.argocd import ArgoCDError, LocalArgoCD
from portico_devcluster.cluster import ClusterError, LocalCluster, stop_detached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portico_devcluster")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--bin-dir", type=Path, default=os.environ.get("PORTICO_BIN_DIR"))
    parser.add_argument(
        "--api-only",
        action="store_true",
        help="only etcd and kube-apiserver (no controller-manager, scheduler, KWOK)",
    )
    parser.add_argument(
        "--with-argocd",
        action="store_true",
        help="also run Argo CD (redis, repo-server, application-controller) against it",
    )
    parser.add_argument(
        "--argocd-bin-dir",
        type=Path,
        default=os.environ.get("PORTICO_ARGOCD_BIN_DIR"),
        help="hack/build-argocd.sh's output (default: $PORTICO_ARGOCD_BIN_DIR)",
    )
    parser.add_argument(
        "--argocd-cm-patch",
        type=Path,
        help="patch argocd-cm as an admin would (deploy/argocd/argocd-cm-patch.yaml)",
    )
    args = parser.parse_args(argv)
    if args.command == "down":
        stopped = stop_detached(args.state_dir)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        return 0
    if args.bin_dir is None:
        print(
            "--bin-dir or PORTICO_BIN_DIR is required (see hack/build-binaries.sh)", file=sys.stderr
        )
        return 2
    if args.with_argocd and args.argocd_bin_dir is None:
        print(
            "--argocd-bin-dir or PORTICO_ARGOCD_BIN_DIR is required with --with-argocd "
            "(see hack/build-argocd.sh)",
            file=sys.stderr,
        )
        return 2
    stop_detached(args.state_dir)
    cluster = LocalCluster(
        bin_dir=args.bin_dir, state_dir=args.state_dir, detach=True, workloads=not args.api_only
    )
    try:
        cluster.start()
    except ClusterError as e:
        print(f"control plane failed to start: {e}", file=sys.stderr)
        return 1
    print(f"kube-apiserver {cluster.version()} ready at {cluster.server}")
    print(f"kubeconfig: {cluster.kubeconfig}")
    if args.with_argocd:
        argocd = LocalArgoCD(
            bin_dir=args.argocd_bin_dir,
            state_dir=args.state_dir,
            kubeconfig=cluster.kubeconfig,
            kubectl=cluster.binary("kubectl"),
            detach=True,
            cm_patch=args.argocd_cm_patch,
            api_server=True,
        )
        try:
            argocd.start()
        except ArgoCDError as e:
            print(f"Argo CD failed to start: {e}", file=sys.stderr)
            stop_detached(args.state_dir)
            return 1
        print(
            "Argo CD application-controller, repo-server and API server running "
            f"(namespace argocd; logs: {args.state_dir}/argocd-*.log)"
        )
        (args.state_dir / "argocd-cli-args").write_text(" ".join(argocd.cli_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
