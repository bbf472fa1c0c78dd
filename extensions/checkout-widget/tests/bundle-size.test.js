import assert from "node:assert/strict";
import { test } from "node:test";

import { LIMIT_BYTES, kilobytes, measureBundles } from "../scripts/size.mjs";

test("every target bundles under Shopify's 64 KB compressed limit", async (t) => {
  const results = await measureBundles();
  assert.equal(results.length, 5, "four targets and the combined bundle");
  for (const { target, bytes, gzipBytes } of results) {
    t.diagnostic(`${target}: ${kilobytes(gzipBytes)} gzipped (${kilobytes(bytes)} raw)`);
    assert.ok(gzipBytes < LIMIT_BYTES, `${target} is ${kilobytes(gzipBytes)} gzipped`);
  }
});
