"""The merchant's side of Kanta, embedded in the Shopify admin: the app home and the admin API."""
