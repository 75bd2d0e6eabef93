"""Tasks: the domain model's loaders, the curated bank, the generated splits, the catalog."""
