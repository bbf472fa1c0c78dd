// @ts-check
/**
 * Where the widget finds Kanta's backend. Set this to the app URL (`application_url` in the
 * repository's shopify.app.toml) before `shopify app deploy`; the extension runs in Shopify's
 * sandbox, with no environment variables, so the URL is built into the bundle. README.md, "Deploy".
 */
export const APP_URL = "https://kanta.example.com";
