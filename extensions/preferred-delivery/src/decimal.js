// @ts-check
/**
 * Exact comparison of Shopify `Decimal` amounts.
 *
 * Function input serializes money as decimal strings ("10.10", "4.5"). Comparing them as floats
 * can call two equal prices different, or a cheaper one dearer, after rounding; and the cheapest
 * rule below is a compliance rule. So amounts are compared digit by digit, never converted.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d*))?$/;

/**
 * @param {unknown} value
 * @returns {{ negative: boolean, whole: string, fraction: string } | null}
 */
function parseDecimal(value) {
  const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== "string") return null;
  const match = DECIMAL.exec(text.trim());
  if (match === null) return null;
  const whole = match[2].replace(/^0+(?=\d)/, "");
  const fraction = (match[3] ?? "").replace(/0+$/, "");
  const isZero = whole === "0" && fraction === "";
  return { negative: match[1] === "-" && !isZero, whole, fraction };
}

/**
 * @param {{ whole: string, fraction: string }} a
 * @param {{ whole: string, fraction: string }} b
 * @returns {-1 | 0 | 1}
 */
function compareMagnitude(a, b) {
  if (a.whole.length !== b.whole.length) return a.whole.length < b.whole.length ? -1 : 1;
  if (a.whole !== b.whole) return a.whole < b.whole ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, "0");
  const fb = b.fraction.padEnd(width, "0");
  if (fa === fb) return 0;
  return fa < fb ? -1 : 1;
}

/**
 * -1, 0 or 1 as `a` is less than, equal to or greater than `b`; null when either is not a
 * plain decimal (so a caller can refuse to act on a price it cannot read).
 * @param {unknown} a
 * @param {unknown} b
 * @returns {-1 | 0 | 1 | null}
 */
export function compareDecimal(a, b) {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (x === null || y === null) return null;
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  const magnitude = compareMagnitude(x, y);
  return x.negative ? /** @type {-1 | 0 | 1} */ (-magnitude || 0) : magnitude;
}
