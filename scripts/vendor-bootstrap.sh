#!/usr/bin/env bash
# Vendors Bootstrap's compiled CSS and JS bundle into internal/web/static/vendor.
#
# natter serves every asset itself (no CDN), so the files are checked in.
# Re-run this script to upgrade: change BOOTSTRAP_VERSION, run, review the diff.
# It needs only npm (to fetch the published package tarball) and sed.
set -euo pipefail

BOOTSTRAP_VERSION="5.3.9"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/internal/web/static/vendor"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# npm pack downloads the exact published tarball without installing anything.
(cd "$tmp" && npm pack --silent "bootstrap@${BOOTSTRAP_VERSION}" >/dev/null)
tar -xzf "$tmp/bootstrap-${BOOTSTRAP_VERSION}.tgz" -C "$tmp"

mkdir -p "$dest"

# We do not ship the .map files, so drop the sourceMappingURL comments;
# otherwise browsers with devtools open request them and log 404s.
strip_sourcemap() {
  sed -E -e '/^\/\*# sourceMappingURL=.*\*\/[[:space:]]*$/d' \
         -e '/^\/\/# sourceMappingURL=.*$/d' "$1" > "$2"
}

strip_sourcemap "$tmp/package/dist/css/bootstrap.min.css"      "$dest/bootstrap.min.css"
strip_sourcemap "$tmp/package/dist/js/bootstrap.bundle.min.js" "$dest/bootstrap.bundle.min.js"
cp "$tmp/package/LICENSE" "$dest/bootstrap.LICENSE"

echo "Vendored Bootstrap ${BOOTSTRAP_VERSION} into ${dest#"$repo_root"/}:"
ls -l "$dest"
