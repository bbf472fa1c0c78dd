import assert from "node:assert/strict";
import { test } from "node:test";

import { compareDecimal } from "../src/decimal.js";

test("equal amounts written differently compare equal", () => {
  assert.equal(compareDecimal("10.10", "10.1"), 0);
  assert.equal(compareDecimal("10", "10.00"), 0);
  assert.equal(compareDecimal("007.5", "7.50"), 0);
  assert.equal(compareDecimal("0.0", "-0"), 0);
});

test("orders by value, not by string or float", () => {
  assert.equal(compareDecimal("9.99", "10.00"), -1);
  assert.equal(compareDecimal("10.01", "10.1"), -1);
  assert.equal(compareDecimal("100", "99.999"), 1);
  // 0.1 + 0.2 !== 0.3 in floats; as decimals these are exact.
  assert.equal(compareDecimal("0.30000000000000001", "0.3"), 1);
  assert.equal(compareDecimal("12345678901234567890.01", "12345678901234567890.001"), 1);
});

test("handles signs", () => {
  assert.equal(compareDecimal("-1", "0"), -1);
  assert.equal(compareDecimal("-2.5", "-2.25"), -1);
  assert.equal(compareDecimal("+3", "3.0"), 0);
});

test("accepts finite numbers, refuses what is not a decimal", () => {
  assert.equal(compareDecimal(4.5, "4.50"), 0);
  for (const bad of [null, undefined, "", "abc", "1e3", "1,5", "NaN", Infinity, {}]) {
    assert.equal(compareDecimal(bad, "1"), null, String(bad));
    assert.equal(compareDecimal("1", bad), null, String(bad));
  }
});
