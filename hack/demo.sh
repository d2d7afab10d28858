#!/usr/bin/env bash
# make demo: a local control plane with real Argo CD beside it, Portico, and the example
# catalog delivered the way platform teams should run it: by GitOps. Then explore.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PORTICO_BIN_DIR:?run through make demo}
argobin=${PORTICO_ARGOCD_BIN_DIR:?run through make demo}
state=${PORTICO_DEMO_DIR:-$HOME/.cache/portico/demo}
py="$root/.venv/bin/python"
export KUBECONFIG="$state/kubeconfig"
kubectl="$bin/kubectl"
started=$(date +%s)

# Every demo starts from an empty catalog (the binaries stay cached).
"$py" -m portico_devcluster down --state-dir "$state" >/dev/null
rm -rf "$state"
# The control plane, then Argo CD as an admin installs it: its CRDs and ConfigMaps, with
# Portico's health checks merged into argocd-cm (deploy/argocd/argocd-cm-patch.yaml).
"$py" -m portico_devcluster up --state-dir "$state" --bin-dir "$bin" \
  --with-argocd --argocd-bin-dir "$argobin" \
  --argocd-cm-patch "$root/deploy/argocd/argocd-cm-patch.yaml"
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
      allowFileUrls: true
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

# The catalog as a platform team keeps it: in git, synced by an Argo CD Application.
catalog="$state/gitops/catalog.git"
work="$state/gitops/work"
git init -q -b main "$work"
cp -r "$root/examples" "$work/catalog"
git -C "$work" add -A
git -C "$work" -c user.name=demo -c user.email=demo@localhost commit -q -m "The example catalog"
git clone -q --bare "$work" "$catalog"
cat <<APP | "$kubectl" apply -f - >/dev/null
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: catalog, namespace: argocd}
spec:
  project: default
  source: {repoURL: "file://$catalog", path: catalog, targetRevision: main}
  destination: {server: https://kubernetes.default.svc}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
APP
echo "Argo CD syncs the catalog from file://$catalog (path catalog/)"

wait_for() { # what, seconds, command...
  local what=$1 seconds=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "timed out after ${seconds}s waiting for $what" >&2
      "$kubectl" get applications -n argocd >&2 || true
      "$kubectl" get catalog -A >&2 || true
      echo "logs: $state/*.log" >&2
      exit 1
    fi
    sleep 1
  done
}
is() { # jsonpath of an object equals a value: is <value> <kubectl get args...>
  local want=$1; shift
  [ "$("$kubectl" get "$@")" = "$want" ]
}
wait_for "the catalog to sync" 120 \
  is Synced -n argocd application/catalog -o 'jsonpath={.status.sync.status}'
# payments-web: scaffolded from the python-service Template, whose defaults deploy it
# through Argo CD; KWOK plays the kubelet, so its pods, like checkout's and ledger's, run.
wait_for "payments-web to be Synced" 120 \
  is Synced -n payments component/payments-web -o 'jsonpath={.status.argocd.sync}'
for c in payments-web checkout ledger; do
  wait_for "$c to be Healthy" 120 \
    is Healthy -n payments "component/$c" -o 'jsonpath={.status.health.status}'
done
wait_for "Argo CD to see the catalog Healthy" 120 \
  is Healthy -n argocd application/catalog -o 'jsonpath={.status.health.status}'

# A golden path that stays golden: the platform team changes the python-service Template in
# the catalog repository; Argo CD syncs it, and Portico proposes the new render to every
# repository scaffolded from it. Without GitHub, payments-web's local repository receives the
# update branch portico/template (on GitHub it would be a pull request).
"$py" - "$work/catalog/40-template.yaml" <<'PY'
import sys

import yaml

path = sys.argv[1]
with open(path) as f:
    template = yaml.safe_load(f)
template["spec"]["skeleton"]["files"].append(
    {"path": ".editorconfig", "content": "root = true\n\n[*.py]\nindent_style = space\nindent_size = 4\n"}
)
with open(path, "w") as f:
    yaml.safe_dump(template, f, sort_keys=False)
PY
git -C "$work" add -A
git -C "$work" -c user.name=platform -c user.email=platform@localhost commit -q \
  -m "python-service: every service gets an .editorconfig"
git -C "$work" push -q "$catalog" main
"$kubectl" annotate application catalog -n argocd argocd.argoproj.io/refresh=normal --overwrite >/dev/null
wait_for "payments-web's update branch" 120 \
  is UpdateBranchPushed -n payments component/payments-web \
  -o 'jsonpath={.status.conditions[?(@.type=="UpToDate")].reason}'
wait_for "the Template to count it" 30 \
  is "0/1 up to date, 1 open" -n platform template/python-service -o 'jsonpath={.status.updateSummary}'

echo
"$kubectl" get catalog -A
echo
"$kubectl" get applications -n argocd
argocd=("$argobin/argocd" $(cat "$state/argocd-cli-args"))
echo
echo "Argo CD's own view of the catalog (each entity's health is Portico's, through its Lua check):"
HOME="$state/argocd" "${argocd[@]}" app get catalog 2>/dev/null | sed -n '/^GROUP/,$p' || true
repo=$("$kubectl" get component -n payments payments-web -o jsonpath='{.status.repository.url}')
cat <<MSG

Ready in $(( $(date +%s) - started ))s.
payments-web was scaffolded from the python-service Template into $repo
  (no GitHub token configured, so to a local bare repository: git clone $repo)
and Argo CD deploys its deploy/ directory. The catalog itself comes from file://$catalog.

Then the platform team changed the python-service Template (an .editorconfig for every
service), and Portico proposed the new render to payments-web on branch portico/template:
$(git --git-dir "${repo#file://}" log --format='  %h %s' portico/template)
  (on GitHub, a pull request; here: git clone $repo && git merge origin/portico/template)
  kubectl get templates -A                 # UPDATES: who is on which version
  kubectl get component -n payments payments-web -o jsonpath='{.status.conditions[?(@.type=="UpToDate")].message}'

Portico and Argo CD are running against a local kube-apiserver. To explore:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$bin:$argobin:\$PATH     # kubectl and argocd, matching the servers
  kubectl get catalog -A
  kubectl get applications -n argocd
  argocd $(cat "$state/argocd-cli-args") app get catalog     # Argo CD's API server, on loopback, no auth
  kubectl describe component -n payments payments-web
  $root/.venv/bin/portico tree

Break something and watch it propagate, up to Argo CD's view of the catalog:
  kubectl -n payments patch deployment checkout -p '{"spec":{"progressDeadlineSeconds":5,"template":{"spec":{"nodeSelector":{"disk":"none"}}}}}'
  kubectl get components -n payments -w          # checkout turns Degraded
  kubectl get application -n argocd catalog      # ... and so does the catalog, through Portico's Lua check

Stop everything with: make demo-down
MSG
