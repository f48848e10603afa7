#!/usr/bin/env bash
# Checks the programs the course needs outside Python: graphviz's `dot` (task-graph pictures,
# lessons 00 and 08), a Java runtime 17 or newer (Spark, lesson 09) and, with --browser, Chromium
# (the browser test).
#   --install    where it can (root, with apt-get: Debian/Ubuntu), install what is missing
#   --warn-only  only print advice, never fail (what `make lab` does)
#   --list       only print the names of the missing programs, one a line (for tests/conftest.py)
# Where it can't install, it prints what is missing and how to install it, and exits 0: the
# tests that need a missing program skip, saying so (tests/conftest.py). It never fails for a
# missing program unless CI is set, where everything must be present.
set -u
install=no; warn_only=no; browser=no; list=no
for arg in "$@"; do
  case "$arg" in
    --install) install=yes ;;
    --warn-only) warn_only=yes ;;
    --browser) browser=yes ;;
    --list) list=yes ;;
  esac
done

java_major() {  # the major version of `java`, or 0 when there is none
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\(\.[0-9]*\)*.*".*/\1/p' | head -n 1 | grep . || echo 0
}

find_missing() {
  missing=()
  command -v dot >/dev/null 2>&1 || missing+=(graphviz)
  [ "$(java_major)" -ge 17 ] || missing+=(java17)
  if [ "$browser" = yes ] && ! command -v chromium >/dev/null 2>&1 \
      && ! command -v chromium-browser >/dev/null 2>&1; then
    missing+=(chromium)
  fi
}

apt_package() {  # Debian/Ubuntu package for a missing program
  case "$1" in
    java17)  # Ubuntu 22.04's default JRE is 11; Debian 13 has 21 but no 17
      if apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then echo openjdk-17-jre-headless
      else echo default-jre-headless; fi ;;
    *) echo "$1" ;;
  esac
}

find_missing
if [ "$list" = yes ]; then
  [ ${#missing[@]} -gt 0 ] && printf '%s\n' "${missing[@]}"
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$install" = yes ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  packages=(); for m in "${missing[@]}"; do packages+=("$(apt_package "$m")"); done
  echo "Installing system packages: ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  find_missing
  [ ${#missing[@]} -eq 0 ] && exit 0
fi

now=$( [ "$(java_major)" -gt 0 ] && echo " (java $(java_major) found; Spark 4 needs 17 or newer)" )
cat >&2 <<TXT
**************************************************************************************
Missing programs the course needs: ${missing[*]}${now}
  Debian/Ubuntu: sudo apt-get install graphviz openjdk-17-jre-headless chromium
                 (Debian 13: default-jre-headless instead of openjdk-17-jre-headless)
  macOS (Homebrew): brew install graphviz openjdk@17
  Windows: winget install Graphviz.Graphviz EclipseAdoptium.Temurin.17.JRE
  conda: conda env create -f environment.yml (installs graphviz and Java)
Tests that need them are skipped (graphviz: lessons 00 and 08; java17: lesson 09;
chromium: the browser test), each saying why.
**************************************************************************************
TXT
if [ "$warn_only" = no ] && [ -n "${CI:-}" ]; then
  echo "CI is set: every program must be present." >&2
  exit 1
fi
exit 0
