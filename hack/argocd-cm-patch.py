"""Render deploy/argocd/argocd-cm-patch.yaml from deploy/argocd/health.lua (make manifests)."""

import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
script = (root / "deploy" / "argocd" / "health.lua").read_text()
lines = [
    "# Generated from health.lua by `make manifests`. Merge into Argo CD's argocd-cm:",
    "#   kubectl -n argocd patch configmap argocd-cm --patch-file deploy/argocd/argocd-cm-patch.yaml",
    "data:",
]
for kind in ("Component", "API", "System", "Template"):
    lines.append(f"  resource.customizations.health.portico.dev_{kind}: |")
    lines += [f"    {line}" if line else "" for line in script.splitlines()]
out = root / "deploy" / "argocd" / "argocd-cm-patch.yaml"
out.write_text("\n".join(lines) + "\n")
sys.stdout.write(f"{out}\n")
