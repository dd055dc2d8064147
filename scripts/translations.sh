#!/bin/sh
# The translation workflow (docs/TRANSLATIONS.md), one step or all:
#   scripts/translations.sh extract   texts of the code and templates -> geo_service/translations/messages.pot
#   scripts/translations.sh update    merge the .pot into every <lang>/LC_MESSAGES/messages.po
#   scripts/translations.sh compile   .po -> .mo (commit both; tests/translations checks they agree)
#   scripts/translations.sh           all three, in that order
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-pybabel}
DIR=geo_service/translations

extract() {
    "$PYBABEL" extract -F babel.cfg -k N_ -k NP_:1c,2 --no-location --sort-output \
        --project geo_service -o "$DIR/messages.pot" .
}
update() {
    "$PYBABEL" update -i "$DIR/messages.pot" -d "$DIR" --no-fuzzy-matching --ignore-obsolete
}
compile() {
    "$PYBABEL" compile -d "$DIR" --statistics
}

case "${1:-all}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) extract && update && compile ;;
    *) echo "usage: $0 [extract|update|compile]" >&2; exit 2 ;;
esac
