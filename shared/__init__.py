"""The domain and its Azure gateways, free of azure.functions: azure/ (gateways), retention/, moves/; settings."""
