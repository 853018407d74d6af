"""Per-shelf product-type counts: group detected products into types, count them, draw and save the result."""
from shelfscan.counting.api import count
from shelfscan.counting.config import CountConfig
from shelfscan.counting.shelf_count import (ProductGroup, ShelfCount, default_embedder, group_products, make_groups,
                                            summary_rows, write_summary_csv)

__all__ = ["CountConfig", "ProductGroup", "ShelfCount", "count", "default_embedder", "group_products",
           "make_groups", "summary_rows", "write_summary_csv"]
