#!/usr/bin/env bash
# Checks the programs the course needs outside Python: graphviz's `dot` (task-graph pictures), a
# Java runtime >= 17 (the Spark lesson) and, with --browser, Chromium (the browser test).
#   --install    on Debian/Ubuntu as root, install what is missing (what CI does)
#   --warn-only  only print advice, never fail (what `make lab` does)
set -u
install=no; warn_only=no; browser=no
for arg in "$@"; do
  case "$arg" in
    --install) install=yes ;;
    --warn-only) warn_only=yes ;;
    --browser) browser=yes ;;
  esac
done
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ "$browser" = yes ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$install" = yes ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit $?
fi

cat >&2 <<TXT
Missing programs the course needs: ${missing[*]}
  Debian/Ubuntu: sudo apt-get install ${missing[*]}
  macOS (Homebrew): brew install graphviz openjdk@17
  Windows: winget install Graphviz.Graphviz EclipseAdoptium.Temurin.17.JRE
  conda: conda env create -f environment.yml (installs graphviz and Java)
TXT
[ "$warn_only" = yes ] && exit 0
exit 1
