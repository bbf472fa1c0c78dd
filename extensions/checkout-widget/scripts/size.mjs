#!/usr/bin/env node
/**
 * Bundle each target's module as Shopify CLI does for a UI extension and report its size gzipped.
 *
 *   npm run size --prefix extensions/checkout-widget
 *
 * esbuild options mirror the CLI's: one self-contained ESM bundle per target module, minified,
 * JSX through Preact's automatic runtime, `process.env.NODE_ENV` = "production", no legal
 * comments. Nothing is marked external: `shopify` is a global the host provides, not an import,
 * and `@shopify/ui-extensions/preact` is a few lines that hand Preact's Signal class to that
 * global, so it must be bundled. Shopify refuses a deploy over 64 KB compressed
 * (../shared/reference/platform-2026-12.md §4); Kanta aims at 20 KB.
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const LIMIT_BYTES = 64 * 1024;
export const TARGET_BYTES = 20 * 1024;

const EXTENSION_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The `module` of every [[extensions.targeting]] in shopify.extension.toml, with its target. */
export function targetModules(extensionDir = EXTENSION_DIR) {
  const toml = readFileSync(join(extensionDir, "shopify.extension.toml"), "utf8");
  const entries = [];
  for (const block of toml.split("[[extensions.targeting]]").slice(1)) {
    const module = /^\s*module\s*=\s*"([^"]+)"/m.exec(block)?.[1];
    const target = /^\s*target\s*=\s*"([^"]+)"/m.exec(block)?.[1];
    if (module && target) entries.push({ target, module: join(extensionDir, module) });
  }
  return entries;
}

/**
 * Build each target module, and all of them in one bundle, in memory; answer bytes raw and
 * gzipped. The CLI has bundled an extension's targets together (one file importing every module)
 * as well as one per target; the combined figure is the one to hold under the limit either way.
 */
export async function measureBundles(extensionDir = EXTENSION_DIR) {
  const modules = targetModules(extensionDir);
  const combined = modules.map(({ module }, index) => `export { default as target${index} } from ${JSON.stringify(module)};`).join("\n");
  const builds = [
    ...modules.map(({ target, module }) => ({ target, module: relative(extensionDir, module), entry: { entryPoints: [module] } })),
    { target: "all targets in one bundle", module: "-", entry: { stdin: { contents: combined, resolveDir: extensionDir, loader: "js" } } },
  ];
  const results = [];
  for (const { target, module, entry } of builds) {
    const output = await build({
      ...entry,
      absWorkingDir: extensionDir,
      bundle: true,
      write: false,
      format: "esm",
      target: "es2020",
      minify: true,
      jsx: "automatic",
      jsxImportSource: "preact",
      legalComments: "none",
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "silent",
    });
    const code = output.outputFiles[0].contents;
    results.push({
      target,
      module,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    });
  }
  return results;
}

/** @param {number} bytes */
export const kilobytes = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await measureBundles();
  for (const { target, module, bytes, gzipBytes } of results) {
    process.stdout.write(`${target.padEnd(45)} ${module.padEnd(22)} ${kilobytes(bytes).padStart(9)} raw  ${kilobytes(gzipBytes).padStart(8)} gzipped\n`);
  }
  const worst = Math.max(...results.map((result) => result.gzipBytes));
  process.stdout.write(`largest ${kilobytes(worst)} gzipped; limit ${kilobytes(LIMIT_BYTES)}, aim ${kilobytes(TARGET_BYTES)}\n`);
  process.exitCode = worst < LIMIT_BYTES ? 0 : 1;
}
