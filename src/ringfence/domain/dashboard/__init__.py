"""The outbound dashboard's pure rules: what each metric counts, its filters, its buckets."""
