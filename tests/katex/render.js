// Renders every fragment named on the command line with KaTeX in display mode and
// throwOnError, as a notebook's Markdown math would; exits 1 naming the first failure.
const fs = require("fs");
const katex = require("katex");
let failed = 0;
for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, "utf8");
  try {
    const html = katex.renderToString(source, { displayMode: true, throwOnError: true, strict: "error" });
    if (!html.includes("katex")) throw new Error("no KaTeX output");
  } catch (e) {
    failed += 1;
    console.error(`${file}: ${e.message}`);
  }
}
console.log(`${process.argv.length - 2 - failed} rendered, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
