#!/usr/bin/env node
// pnpm build:dist — the production form of every service: one ESM bundle per entry point
// (services/<name>/src/main.ts → dist/bin/<name>.mjs), made by esbuild from the TypeScript
// sources, and the SQL migrations beside them (dist/migrations/, found by libs/db as
// ../migrations/ from the bundle, as from libs/db/src in the sources).
//
// Why: a service run through tsx carries the TypeScript loader (~37 MB RSS) and resolves and
// wraps hundreds of module files at start-up; the bundle is plain JavaScript that node runs
// directly (see docs/operations.md "Memory"). Behaviour is the same code; tests run the sources,
// and test/e2e/dist-bundles.test.ts runs the bundles.
//
// Not bundled, resolved at run time from the repository's node_modules (root dependencies):
// native code (@node-rs/argon2 loads a .node binary per platform) and PGlite (the embedded
// database loads its WebAssembly and data files from its own directory).
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(REPO, "dist");
const EXTERNAL = ["@node-rs/argon2", "@electric-sql/pglite"];

const services = readdirSync(join(REPO, "services")).filter((name) => existsSync(join(REPO, "services", name, "src", "main.ts")));

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, "bin"), { recursive: true });
cpSync(join(REPO, "libs", "db", "migrations"), join(OUT, "migrations"), { recursive: true });

const started = Date.now();
await build({
  absWorkingDir: REPO,
  entryPoints: Object.fromEntries(services.map((name) => [name, join("services", name, "src", "main.ts")])),
  outdir: join(OUT, "bin"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: false,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  // Whitespace and syntax only: names stay, so stack traces and logs read as in the sources.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies call require(); an ESM bundle has none of its own.
  banner: { js: "import { createRequire as __postlineCreateRequire } from 'node:module'; const require = __postlineCreateRequire(import.meta.url);" },
});
process.stdout.write(`dist: ${services.length} services bundled into dist/bin/ in ${Date.now() - started} ms (${services.join(", ")})\n`);
