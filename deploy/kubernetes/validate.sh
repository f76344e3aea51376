#!/usr/bin/env bash
# `make lint`'s offline check of the Kubernetes manifests (deploy/kubernetes/README.md,
# "Checks"): each overlay and its migrate/ rendered by kustomize, every object validated
# against the Kubernetes API schemas with unknown fields refused, and the settings
# checked against rapport_common/settings.py and deploy/stack.env (check_settings.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

KUSTOMIZE=.local/tools/bin/kustomize
VENV=.venv/bin
# The oldest Kubernetes the manifests are meant for, and the newest whose schemas
# kubernetes-validate ships.
KUBERNETES_VERSIONS=(1.31.0 1.37.0)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The production overlay builds only with the site's own files: a copy gets the
# example addresses and throwaway random secrets, so no real secret is ever read here.
site=kubernetes/overlays/production/common
tar -C deploy --anchored --exclude="$site/site.env" --exclude="$site/secrets.env" -cf - kubernetes \
    | tar -C "$work" -xf -
common="$work/$site"
cp "$common/site.env.example" "$common/site.env"
"$VENV/python" deploy/kubernetes/check_settings.py throwaway-secrets \
    "$common/secrets.env.example" >"$common/secrets.env"

versions=()
for version in "${KUBERNETES_VERSIONS[@]}"; do versions+=(-k "$version"); done

status=0
for overlay in dev dev/migrate production production/migrate; do
    rendered="$work/${overlay//\//-}.yaml"
    if ! "$KUSTOMIZE" build "$work/kubernetes/overlays/$overlay" >"$rendered"; then
        echo "ERROR kustomize could not build overlays/$overlay"
        status=1
        continue
    fi
    # --quiet prints only problems. A kind without a schema (a misspelt kind or
    # apiVersion) is only a warning to kubernetes-validate; here it fails too.
    report=$("$VENV/kubernetes-validate" --strict --quiet "${versions[@]}" "$rendered" 2>&1) \
        || status=1
    if [ -n "$report" ]; then
        echo "${report//$rendered/overlays/$overlay}"
        status=1
    fi
done
"$VENV/python" deploy/kubernetes/check_settings.py check "$work/dev.yaml" "$work/production.yaml" \
    || status=1

[ "$status" -eq 0 ] && echo "deploy/kubernetes: every overlay renders and validates"
exit "$status"
