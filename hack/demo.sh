#!/usr/bin/env bash
# make demo: a local control plane, the CRDs, Portico, the example catalog — then explore.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PORTICO_BIN_DIR:?run through make demo}
state=${PORTICO_DEMO_DIR:-$HOME/.cache/portico/demo}
py="$root/.venv/bin/python"
export KUBECONFIG="$state/kubeconfig"
kubectl="$bin/kubectl"

# Every demo starts from an empty catalog (the binaries stay cached).
"$py" -m portico_devcluster down --state-dir "$state" >/dev/null
rm -rf "$state"
"$py" -m portico_devcluster up --state-dir "$state" --bin-dir "$bin"
"$kubectl" apply -f "$root/crds/" >/dev/null
# kubectl wait errors out (rather than waits) while a new CRD has no conditions yet: retry.
for _ in $(seq 30); do
  "$kubectl" wait --for=condition=Established --timeout=10s -f "$root/crds/" >/dev/null 2>&1 && break
  sleep 1
done

# No GitHub here: Templates that publish to GitHub go to local bare repositories instead.
"$kubectl" create namespace portico-system --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
cat <<CONFIG | "$kubectl" apply -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: portico-config, namespace: portico-system}
data:
  config.yaml: |
    github:
      fallbackGitUrl: "file://$state/repos/{{ owner }}/{{ name }}.git"
    tenancy:
      rules:
        # The platform team's Templates publish to the acme organization.
        - namespaces: [platform]
          publish: {githubOwners: [acme]}
        # The payments team reads its own workloads, and may deploy from acme's repositories.
        - namespaces: [payments]
          argocd: {sourceRepos: ["https://github.com/acme/*"]}
CONFIG

port=$("$py" -c 'from portico_devcluster.cluster import free_port; print(free_port())')
setsid "$root/.venv/bin/portico" run --liveness "http://127.0.0.1:$port/healthz" \
  >"$state/portico.log" 2>&1 < /dev/null &
echo $! > "$state/portico.pid"
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "portico running (log: $state/portico.log)"

"$kubectl" apply -f "$root/examples/"
"$kubectl" wait --for=condition=Ready --timeout=60s -A components,apis,systems,templates --all >/dev/null
# KWOK plays the kubelet: the example Deployments roll out, so health becomes real.
"$kubectl" wait -n payments --for=jsonpath='{.status.health.status}'=Healthy --timeout=120s \
  component/checkout component/ledger system/payments >/dev/null
echo
"$kubectl" get catalog -A
repo=$("$kubectl" get component -n payments payments-web -o jsonpath='{.status.repository.url}')
cat <<MSG

payments-web was scaffolded from the python-service Template into $repo
  (no GitHub token configured, so to a local bare repository: git clone $repo)

Portico is running against a local kube-apiserver. To explore:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$bin:\$PATH     # kubectl $("$kubectl" version --client -o json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])'), matching the server
  kubectl get catalog -A
  kubectl describe component -n payments checkout
  $root/.venv/bin/portico tree

Break something and watch it propagate:
  kubectl -n payments scale deployment ledger --replicas=5
  kubectl -n payments patch deployment checkout -p '{"spec":{"progressDeadlineSeconds":5,"template":{"spec":{"nodeSelector":{"disk":"none"}}}}}'

Stop everything with: make demo-down
MSG
