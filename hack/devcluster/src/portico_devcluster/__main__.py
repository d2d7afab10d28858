"""`python -m portico_devcluster up|down`: the local control plane for `make demo`."""

import argparse
import os
import sys
from pathlib import Path

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
