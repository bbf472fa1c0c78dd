/**
 * A test stand-in for `shopify.i18n.translate`: looks a dotted key up in locales/en.default.json,
 * picks the plural form for `count` as Shopify does (Intl.PluralRules), and fills `{{name}}`.
 * Throws on a missing key or a placeholder without a value, so a test catches both.
 */
import { readFileSync } from "node:fs";

const EN = JSON.parse(readFileSync(new URL("../locales/en.default.json", import.meta.url), "utf8"));
const plural = new Intl.PluralRules("en");

export function translate(message) {
  const { key, vars = {} } = message;
  let entry = key.split(".").reduce((node, part) => (node === undefined ? undefined : node[part]), EN);
  if (entry !== null && typeof entry === "object" && typeof vars.count === "number") {
    entry = entry[plural.select(vars.count)] ?? entry.other;
  }
  if (typeof entry !== "string") throw new Error(`no translation for ${key}`);
  return entry.replace(/\{\{(\w+)\}\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`${key}: no value for {{${name}}}`);
    return String(vars[name]);
  });
}
