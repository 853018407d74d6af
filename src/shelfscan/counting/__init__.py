"""Per-shelf product-type counts: group detected products into types, count them, draw and save the result."""
from shelfscan.counting.api import count
from shelfscan.counting.config import COUNT_NETWORK, CountConfig
from shelfscan.counting.shelf_count import (ProductGroup, ShelfCount, count_embedder, default_embedder,
                                            group_products, make_groups, summary_rows, write_summary_csv)

__all__ = ["COUNT_NETWORK", "CountConfig", "ProductGroup", "ShelfCount", "count", "count_embedder",
           "default_embedder", "group_products", "make_groups", "summary_rows", "write_summary_csv"]
