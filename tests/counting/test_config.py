"""CountConfig: frozen, checked, and the defaults of count(), group_products and the counting verbs."""
import dataclasses
import inspect

import pytest

from shelfscan.counting import count, group_products
from shelfscan.counting.config import CountConfig
from shelfscan.errors import InputError


def test_frozen_config_refuses_assignment():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CountConfig().count_conf = 0.3


def test_the_thresholds_are_named_for_what_they_do():
    # boxes are counted from count_conf up; only those scoring confirm_below or more form types
    assert CountConfig.count_conf == 0.5 and CountConfig.confirm_below == 0.65
    assert CountConfig.count_conf < CountConfig.confirm_below


@pytest.mark.parametrize("field, value, expected", [
    ("count_conf", 1.2, r"count_conf: expected a score in \[0, 1\], got 1.2"),
    ("confirm_below", -0.1, r"confirm_below: expected None or a score in \[0, 1\], got -0.1"),
    ("method", "dbscan", "method: expected one of"),
    ("linkage", "ward", "linkage: expected one of"),
    ("type_radius", 0, "type_radius: expected a positive number, got 0"),
    ("neighbours", -1, "neighbours: expected an integer >= 0, got -1"),
    ("neighbours", 2.0, "neighbours: expected an integer >= 0, got 2.0"),
])
def test_bad_values_are_refused_with_expected_and_got(field, value, expected):
    with pytest.raises(InputError, match=expected):
        CountConfig(**{field: value})


def test_count_and_group_products_take_their_defaults_from_it():
    c, g = inspect.signature(count).parameters, inspect.signature(group_products).parameters
    assert c["confirm_below"].default == CountConfig.confirm_below
    assert c["method"].default == g["method"].default == CountConfig.method
    assert c["linkage"].default == g["linkage"].default == CountConfig.linkage
    assert g["neighbours"].default == CountConfig.neighbours
