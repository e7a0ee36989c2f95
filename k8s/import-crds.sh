#!/usr/bin/env bash
# Regenerates k8s/imports/ from the KubeStash CRDs kept in k8s/crds/.
# cdk8s import writes one file per API group, so the CRDs are imported as one
# multi-document stream: importing them one by one would overwrite
# storage.kubestash.com.ts with whichever storage CRD came last.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for crd in "$here"/crds/*.yaml; do
  cat "$crd"
  printf '\n---\n'
done >"$work/kubestash-crds.yaml"

(cd "$work" && npx --prefix "$here/.." cdk8s import "$work/kubestash-crds.yaml" \
  --language typescript --output "$work/imports" >/dev/null)

rm -f "$here"/imports/*.ts
cp "$work"/imports/*.ts "$here/imports/"
echo "k8s/imports: $(ls "$here/imports" | tr '\n' ' ')"
