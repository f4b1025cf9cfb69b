#!/bin/sh
# Put Tailbox from this unpacked folder into your application menu (no root needed):
# the menu entry and icons go under ${XDG_DATA_HOME:-~/.local/share}. Run it again
# after moving the folder; `--remove` takes the entry out again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/tailbox.desktop"

if [ "${1:-}" = "--remove" ]; then
    rm -f "$entry" "$data/icons/hicolor/256x256/apps/tailbox.png" \
        "$data/icons/hicolor/scalable/apps/tailbox.svg"
    echo "Removed $entry"
    exit 0
fi

for size in 256x256 scalable; do
    mkdir -p "$data/icons/hicolor/$size/apps"
    cp "$here/share/icons/hicolor/$size/apps/"tailbox.* "$data/icons/hicolor/$size/apps/"
done
mkdir -p "$data/applications"
# Exec= with the absolute path of this folder's tailbox, quoted and escaped as the
# Desktop Entry spec asks (quoting, then string escapes; % doubled).
exec_path=$(printf '%s' "$here/tailbox" |
    sed -e 's/\\/\\\\\\\\/g' -e 's/["`$]/\\\\&/g' -e 's/%/%%/g')
while IFS= read -r line; do
    case $line in
    Exec=*) printf 'Exec="%s"\n' "$exec_path" ;;
    *) printf '%s\n' "$line" ;;
    esac
done <"$here/share/applications/tailbox.desktop" >"$entry"
command -v update-desktop-database >/dev/null 2>&1 &&
    update-desktop-database -q "$data/applications" || true
echo "Added $entry (Exec=$here/tailbox)"
