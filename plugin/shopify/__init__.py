"""Everything that talks to Shopify goes through this package (via ``shopifyapp``)."""
