#!/usr/bin/env bash
# Refreshes the vendored KaTeX that `chainrule html` inlines into its pages (include_str!), so
# a page displays offline and the binary never needs npm: the minified script as it ships,
# and the stylesheet with every font as a woff2 data: URL (the woff and ttf fallbacks dropped;
# every browser that runs KaTeX reads woff2).
#   usage: core/assets/katex/vendor.sh [path/to/node_modules/katex]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
katex="${1:-$here/../../../tests/katex/node_modules/katex}"
cp "$katex/dist/katex.min.js" "$here/katex.min.js"
cp "$katex/LICENSE" "$here/LICENSE-KaTeX"
node - "$katex/dist" "$here/katex.inline.css" <<'JS'
const fs = require("fs");
const [dist, out] = process.argv.slice(2);
let css = fs.readFileSync(`${dist}/katex.min.css`, "utf8");
css = css.replace(/src:url\(fonts\/([A-Za-z0-9_-]+)\.woff2\) format\("woff2"\)[^;}]*/g, (_, font) => {
  const data = fs.readFileSync(`${dist}/fonts/${font}.woff2`).toString("base64");
  return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
});
if (/url\(fonts\//.test(css)) throw new Error("a font URL was left unreplaced");
fs.writeFileSync(out, css);
JS
echo "KaTeX $(node -p "require('$katex/package.json').version") vendored into $here"
