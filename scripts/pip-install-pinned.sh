#!/usr/bin/env bash
# Installs exact versions of Python packages into a folder with pip --target --no-deps:
#   scripts/pip-install-pinned.sh DEST WHAT PACKAGE==VERSION...
# Idempotent: nothing is installed when DEST already holds exactly these versions (a stamp file
# lists them); otherwise the folder is built beside DEST and moved into place, so an interrupted
# install never leaves a half-filled DEST. WHAT names the packages in the message.
set -euo pipefail
dest=$1
what=$2
shift 2
stamp="$dest/.pinned"
want=$(printf '%s\n' "$@")
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
echo "installing $what into $dest" >&2
rm -rf "$dest.partial"
mkdir -p "$(dirname "$dest")"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --root-user-action=ignore --no-deps --target "$dest.partial" "$@"
printf '%s\n' "$want" > "$dest.partial/.pinned"
rm -rf "$dest"
mv "$dest.partial" "$dest"
