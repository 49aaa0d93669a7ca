#!/usr/bin/env bash
# Vendor the front-end libraries the web pages use, from their npm packages: the pages load
# them from /static, never from a CDN. Re-run after changing a version below and commit the
# result (src/ringfence/entrypoints/web/static/vendor/). Needs npm and node; nothing is left
# behind (no node_modules, no package-lock).
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=src/ringfence/entrypoints/web/static/vendor
# npm package, exact version, the files the pages need from it (comma-separated)
PACKAGES=(
  "htmx.org 2.0.11 dist/htmx.min.js"
  "chart.js 4.6.1 dist/chart.umd.min.js"
  "swagger-ui-dist 5.36.0 swagger-ui-bundle.js,swagger-ui.css"
)

for tool in npm node sha256sum; do
  command -v "$tool" >/dev/null || { echo "vendor-frontend.sh needs $tool" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rows=()
for spec in "${PACKAGES[@]}"; do
  read -r name version files <<<"$spec"
  unpacked="$work/$name"
  mkdir -p "$unpacked"
  tarball="$(cd "$work" && npm pack "$name@$version" --silent --pack-destination "$work" | tail -n 1)"
  tar -xzf "$work/$tarball" -C "$unpacked"
  package="$unpacked/package"
  got="$(node -p 'require(process.argv[1]).version' "$package/package.json")"
  if [ "$got" != "$version" ]; then
    echo "$name: asked for $version, npm gave $got" >&2
    exit 1
  fi
  licence="$(node -p 'require(process.argv[1]).license' "$package/package.json")"
  licence_file=""
  for candidate in LICENSE LICENSE.md LICENSE.txt license license.md; do
    if [ -f "$package/$candidate" ]; then licence_file="$candidate"; break; fi
  done
  if [ -z "$licence_file" ]; then
    echo "$name@$version ships no LICENSE file" >&2
    exit 1
  fi
  target="$DEST/$name"
  rm -rf "$target"
  mkdir -p "$target"
  # One name for every licence, with an extension, so it is served as text/plain.
  cp "$package/$licence_file" "$target/LICENSE.txt"
  IFS=, read -r -a wanted <<<"$files"
  for file in "${wanted[@]}"; do
    cp "$package/$file" "$target/"
    digest="$(sha256sum "$target/$(basename "$file")" | cut -d ' ' -f 1)"
    rows+=("| \`$name\` | $version | $licence | \`$name/$(basename "$file")\` (from \`$file\`) | \`$name/LICENSE.txt\` (from \`$licence_file\`) | \`$digest\` |")
    echo "vendored $name@$version ($licence): $target/$(basename "$file")"
  done
done

{
  echo "# Vendored front-end libraries"
  echo
  echo "Written by \`scripts/vendor-frontend.sh\` from the npm packages below (\`npm pack\`, exact"
  echo "versions); do not edit by hand. The web pages serve these files from \`/static/vendor/\`."
  echo
  echo "| package | version | licence | file | licence text | sha256 of file |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$DEST/README.md"
echo "wrote $DEST/README.md"
