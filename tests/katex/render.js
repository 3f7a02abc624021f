// Renders chainrule's LaTeX fragments with KaTeX as a notebook's Markdown math would: each
// `align*` block on its own, in display mode, with throwOnError, strict, and KaTeX's default
// limits (maxExpand 1000). Fragments come as files named on the command line, or with
// `--stdin` as one JSON array of {"name", "tex"} (one process for many fragments).
// Prints "N rendered, M failed" and exits 1 naming each failure.
const fs = require("fs");
const katex = require("katex");

const fragments =
  process.argv[2] === "--stdin"
    ? JSON.parse(fs.readFileSync(0, "utf8"))
    : process.argv.slice(2).map((file) => ({ name: file, tex: fs.readFileSync(file, "utf8") }));

let failed = 0;
for (const { name, tex } of fragments) {
  const blocks = tex.match(/\\begin\{align\*\}[\s\S]*?\\end\{align\*\}/g) || [tex];
  for (const [i, block] of blocks.entries()) {
    try {
      const html = katex.renderToString(block, { displayMode: true, throwOnError: true, strict: "error" });
      if (!html.includes("katex")) throw new Error("no KaTeX output");
    } catch (e) {
      failed += 1;
      console.error(`${name} (block ${i + 1} of ${blocks.length}): ${e.message}`);
      break;
    }
  }
}
console.log(`${fragments.length - failed} rendered, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
