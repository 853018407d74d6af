"""Per-shelf product-type counts: group detected products into types, count them, draw and save the result."""
from shelfscan.counting.api import COUNT_CONF, WEAK_CONF, count
from shelfscan.counting.shelf_count import (ProductGroup, ShelfCount, default_embedder, group_products, make_groups,
                                            summary_rows, write_summary_csv)

__all__ = ["COUNT_CONF", "WEAK_CONF", "ProductGroup", "ShelfCount", "count", "default_embedder", "group_products",
           "make_groups", "summary_rows", "write_summary_csv"]
