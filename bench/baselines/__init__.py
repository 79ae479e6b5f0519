"""Reference servers the product's ingest figures are measured against."""
