#!/usr/bin/env bash
# Rebuild the vendored map assets under maps/ (see maps/README.md).
#
# Provenance, not a build step: the files under maps/ are committed, so the service and CI never
# fetch anything. Run this only to check where a file came from or to move to new versions
# (and then update the CDN -> local table in geo_service/maps/assets.py and maps/README.md).
#
# Every file comes from a package registry through its ordinary client:
#   - npm packages via `npm pack <name>@<version>` (the tarball the registry serves);
#   - folium's own small files (rotate CSS, patched leaflet-heat) from the folium sdist on PyPI,
#     via `pip download`.
# CDNs are never contacted.
#
# Usage: scripts/fetch_map_assets.sh [target_dir]   (default: maps/ at the repository top level)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/maps}"
PYTHON="${PYTHON:-/work/venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# name@version as folium 0.20.0 references them (folium/folium.py and folium/plugins/*.py).
PACKAGES=(
  leaflet@1.9.3
  jquery@3.7.1
  bootstrap@5.2.2
  bootstrap@3.4.1                      # glyphicons only (folium links bootstrap-glyphicons 3.0.0, not on npm)
  @fortawesome/fontawesome-free@6.2.0
  drmonty-leaflet-awesome-markers@2.0.2  # npm republication of lvoogdt/Leaflet.awesome-markers 2.0.2
  leaflet.awesome-markers@2.0.5          # only for its LICENSE file (same author; 2.0.2 ships none)
  leaflet.markercluster@1.1.0
  leaflet.fullscreen@3.0.0
  leaflet-measure@2.1.7
  leaflet-mouse-position@1.2.0           # danwild's npm fork of ardhi/Leaflet.MousePosition (same API)
  leaflet.heat@0.2.0                     # only for its LICENSE: folium's patched copy is the one used
  axe-core@4.14.1                        # tests only (tests/web/test_accessibility.py); never served
)

unpack() {  # unpack <spec> -> prints the directory holding package/
  local spec="$1" tgz dir
  tgz="$(cd "$WORK" && npm pack "$spec" --silent | tail -n 1)"
  dir="$WORK/x/${tgz%.tgz}"
  mkdir -p "$dir"
  tar xzf "$WORK/$tgz" -C "$dir" --warning=no-unknown-keyword 2>/dev/null || tar xzf "$WORK/$tgz" -C "$dir"
  echo "$dir/package"
}

copy() {  # copy <src> <dest-relative-to-DEST>
  mkdir -p "$(dirname "$DEST/$2")"
  cp "$1" "$DEST/$2"
}

declare -A P
for spec in "${PACKAGES[@]}"; do
  P[$spec]="$(unpack "$spec")"
done

# Leaflet 1.9.3 (BSD-2-Clause). images/ must sit beside leaflet.css: Leaflet finds its default
# marker icon through the CSS.
d="${P[leaflet@1.9.3]}"; t=leaflet-1.9.3
copy "$d/dist/leaflet.js" "$t/leaflet.js"
copy "$d/dist/leaflet.css" "$t/leaflet.css"
for f in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
  copy "$d/dist/images/$f" "$t/images/$f"
done
copy "$d/LICENSE" "$t/LICENSE"

# jQuery 3.7.1 (MIT)
d="${P[jquery@3.7.1]}"; t=jquery-3.7.1
copy "$d/dist/jquery.min.js" "$t/jquery.min.js"
copy "$d/LICENSE.txt" "$t/LICENSE.txt"

# Bootstrap 5.2.2 (MIT)
d="${P[bootstrap@5.2.2]}"; t=bootstrap-5.2.2
copy "$d/dist/css/bootstrap.min.css" "$t/css/bootstrap.min.css"
copy "$d/dist/js/bootstrap.bundle.min.js" "$t/js/bootstrap.bundle.min.js"
copy "$d/LICENSE" "$t/LICENSE"

# Glyphicons from Bootstrap 3.4.1 (MIT): the @font-face and the .glyphicon rules cut out of
# dist/css/bootstrap.css (what netdna's bootstrap-glyphicons.css 3.0.0 held), woff2/woff fonts only.
d="${P[bootstrap@3.4.1]}"; t=bootstrap-glyphicons-3.4.1
copy "$d/dist/fonts/glyphicons-halflings-regular.woff2" "$t/fonts/glyphicons-halflings-regular.woff2"
copy "$d/dist/fonts/glyphicons-halflings-regular.woff" "$t/fonts/glyphicons-halflings-regular.woff"
copy "$d/LICENSE" "$t/LICENSE"
mkdir -p "$DEST/$t/css"
"$PYTHON" - "$d/dist/css/bootstrap.css" "$DEST/$t/css/bootstrap-glyphicons.css" <<'EOF'
import re
import sys

src = open(sys.argv[1], encoding="utf-8").read()
rules = re.findall(r"(?ms)^(@font-face \{.*?^\}|\.glyphicon[^{]*\{.*?^\})", src)
face = (
    '@font-face {\n  font-family: "Glyphicons Halflings";\n'
    '  src: url("../fonts/glyphicons-halflings-regular.woff2") format("woff2"),'
    ' url("../fonts/glyphicons-halflings-regular.woff") format("woff");\n}'
)
body = [r for r in rules if not r.startswith("@font-face")]
header = (
    "/* Glyphicons rules extracted from Bootstrap v3.4.1 dist/css/bootstrap.css"
    " (MIT, Twitter, Inc.); woff2/woff only. */\n"
)
open(sys.argv[2], "w", encoding="utf-8").write(header + face + "\n" + "\n".join(body) + "\n")
EOF

# Font Awesome Free 6.2.0 (icons CC BY 4.0, fonts SIL OFL 1.1, code MIT)
d="${P[@fortawesome/fontawesome-free@6.2.0]}"; t=fontawesome-free-6.2.0
copy "$d/css/all.min.css" "$t/css/all.min.css"
for f in fa-brands-400 fa-regular-400 fa-solid-900 fa-v4compatibility; do
  copy "$d/webfonts/$f.woff2" "$t/webfonts/$f.woff2"
  copy "$d/webfonts/$f.ttf" "$t/webfonts/$f.ttf"
done
copy "$d/LICENSE.txt" "$t/LICENSE.txt"

# Leaflet.awesome-markers 2.0.2 (MIT, L. Voogdt)
d="${P[drmonty-leaflet-awesome-markers@2.0.2]}"; t=leaflet.awesome-markers-2.0.2
copy "$d/js/leaflet.awesome-markers.js" "$t/leaflet.awesome-markers.js"
copy "$d/css/leaflet.awesome-markers.css" "$t/leaflet.awesome-markers.css"
for f in markers-soft.png markers-soft@2x.png markers-shadow.png markers-shadow@2x.png; do
  copy "$d/css/images/$f" "$t/images/$f"
done
copy "${P[leaflet.awesome-markers@2.0.5]}/LICENSE" "$t/LICENSE"

# Leaflet.markercluster 1.1.0 (MIT)
d="${P[leaflet.markercluster@1.1.0]}"; t=leaflet.markercluster-1.1.0
copy "$d/dist/leaflet.markercluster.js" "$t/leaflet.markercluster.js"
copy "$d/dist/MarkerCluster.css" "$t/MarkerCluster.css"
copy "$d/dist/MarkerCluster.Default.css" "$t/MarkerCluster.Default.css"
copy "$d/MIT-LICENCE.txt" "$t/MIT-LICENCE.txt"

# leaflet.fullscreen 3.0.0 (MIT); the package has no .min.js, folium's min URL maps to the plain file
d="${P[leaflet.fullscreen@3.0.0]}"; t=leaflet.fullscreen-3.0.0
for f in Control.FullScreen.js Control.FullScreen.css icon-fullscreen.svg LICENSE; do
  copy "$d/$f" "$t/$f"
done

# leaflet-measure 2.1.7 (MIT); no .min.css in the package, folium's min URL maps to the plain file
d="${P[leaflet-measure@2.1.7]}"; t=leaflet-measure-2.1.7
copy "$d/dist/leaflet-measure.min.js" "$t/leaflet-measure.min.js"
copy "$d/dist/leaflet-measure.css" "$t/leaflet-measure.css"
for f in cancel check focus rulers start trash; do
  copy "$d/dist/images/$f.png" "$t/images/$f.png"
  copy "$d/dist/images/${f}_@2X.png" "$t/images/${f}_@2X.png"
done
copy "$d/LICENSE" "$t/LICENSE"

# Leaflet.MousePosition 1.2.0 (MIT)
d="${P[leaflet-mouse-position@1.2.0]}"; t=leaflet-mouse-position-1.2.0
copy "$d/src/L.Control.MousePosition.js" "$t/L.Control.MousePosition.js"
copy "$d/src/L.Control.MousePosition.css" "$t/L.Control.MousePosition.css"
copy "$d/MIT-LICENCE.txt" "$t/MIT-LICENCE.txt"

# folium 0.20.0 (MIT): rotate CSS for awesome markers and folium's patched leaflet-heat
# (Leaflet.heat 0.2.0, BSD-2-Clause, plus the weights fix of Leaflet.heat PR 78).
(cd "$WORK" && "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: folium==0.20.0 -d sdist)
tar xzf "$WORK"/sdist/folium-0.20.0.tar.gz -C "$WORK"
d="$WORK/folium-0.20.0"; t=folium-0.20.0
copy "$d/folium/templates/leaflet.awesome.rotate.css" "$t/leaflet.awesome.rotate.css"
copy "$d/folium/templates/leaflet_heat.min.js" "$t/leaflet_heat.min.js"
copy "$d/LICENSE.txt" "$t/LICENSE.txt"
copy "${P[leaflet.heat@0.2.0]}/LICENSE" "$t/LICENSE.leaflet-heat"

# axe-core 4.14.1 (MPL-2.0): the accessibility tests inject it; /maps/axe-core-* answers 404.
d="${P[axe-core@4.14.1]}"; t=axe-core-4.14.1
for f in axe.min.js LICENSE LICENSE-3RD-PARTY.txt; do
  copy "$d/$f" "$t/$f"
done

du -sh "$DEST"
