"""The storefront's one upstream: Souk's public API, through the gateway."""
