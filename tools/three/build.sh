#!/usr/bin/env bash
# Rebuild spine3d/export/vendor/three.min.js: the parts of three.js the web page uses
# (entry.js), bundled as one classic script that defines the global THREE, so that the
# page can inline it and make no request. Needs npm; run from the repository root.
set -euo pipefail
version=0.187.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tools/three/entry.js "$work/"
(
  cd "$work"
  # esbuild first: an npm install prunes packages it did not install itself.
  npm install --silent --no-audit --no-fund --no-save esbuild@0.28.2 >/dev/null
  npm pack --silent "three@$version" >/dev/null
  mkdir -p node_modules/three
  tar xzf "three-$version.tgz" -C node_modules/three --strip-components=1
  ./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife \
    --global-name=THREE --legal-comments=none --outfile=three.min.js
)
cp "$work/three.min.js" spine3d/export/vendor/three.min.js
cp "$work/node_modules/three/LICENSE" spine3d/export/vendor/LICENSE-three.txt
