"""The WeChat Official Account channel (公众号): signatures, AES safe mode, XML, retries, customer-service API."""
