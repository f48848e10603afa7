#!/usr/bin/env bash
# Checks the programs the course needs outside Python: graphviz's `dot` (task-graph pictures)
# and a Java runtime >= 17 (the Spark lesson). With --install, on Debian/Ubuntu as root, it
# installs what is missing (this is what CI does); with --warn-only it only prints advice.
set -u
mode=${1:-check}
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if ! command -v java >/dev/null 2>&1; then
  missing+=(default-jre-headless)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$mode" = "--install" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit $?
fi

cat >&2 <<TXT
Missing programs the course needs: ${missing[*]}
  Debian/Ubuntu: sudo apt-get install ${missing[*]}
  macOS (Homebrew): brew install graphviz openjdk@17
  Windows: winget install Graphviz.Graphviz EclipseAdoptium.Temurin.17.JRE
  conda: conda env create -f environment.yml (installs both)
TXT
[ "$mode" = "--warn-only" ] && exit 0
exit 1
