"""Read a frozen TensorFlow 1.x ``GraphDef`` (``.pb``) without TensorFlow: a hand-declared subset of its protobuf
schema, parsed with the ``protobuf`` package (which ``onnx`` already brings with the ``[train]`` extra).

Only the fields a frozen inference graph uses are declared, with TensorFlow's field numbers
(``tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape}.proto``); anything else (``versions``,
``library``, ``device``, function attrs, ...) is kept by protobuf as unknown fields and ignored. ``NodeDef.attr``
is a ``map<string, AttrValue>`` upstream; it is declared as the wire-identical repeated ``{key = 1, value = 2}``
entry message, so no map support is needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from shelfscan.errors import FormatError

# tensorflow/core/framework/types.proto DataType -> numpy
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 6: np.int8, 9: np.int64, 10: np.bool_,
           19: np.float16}

_T = "TYPE_"  # FieldDescriptorProto type names, e.g. TYPE_STRING
# message -> [(field name, number, type, label ("optional"/"repeated"), message type name or None)]
_SCHEMA = {
    "Dim": [("size", 1, "INT64", "optional", None), ("name", 2, "STRING", "optional", None)],
    "TensorShapeProto": [("dim", 2, "MESSAGE", "repeated", "Dim"), ("unknown_rank", 3, "BOOL", "optional", None)],
    "TensorProto": [
        ("dtype", 1, "INT32", "optional", None), ("tensor_shape", 2, "MESSAGE", "optional", "TensorShapeProto"),
        ("tensor_content", 4, "BYTES", "optional", None), ("float_val", 5, "FLOAT", "repeated", None),
        ("double_val", 6, "DOUBLE", "repeated", None), ("int_val", 7, "INT32", "repeated", None),
        ("int64_val", 10, "INT64", "repeated", None), ("bool_val", 11, "BOOL", "repeated", None),
        ("half_val", 13, "INT32", "repeated", None)],
    "ListValue": [
        ("s", 2, "BYTES", "repeated", None), ("i", 3, "INT64", "repeated", None), ("f", 4, "FLOAT", "repeated", None),
        ("b", 5, "BOOL", "repeated", None), ("type", 6, "INT32", "repeated", None),
        ("shape", 7, "MESSAGE", "repeated", "TensorShapeProto"), ("tensor", 8, "MESSAGE", "repeated", "TensorProto")],
    "AttrValue": [
        ("list", 1, "MESSAGE", "optional", "ListValue"), ("s", 2, "BYTES", "optional", None),
        ("i", 3, "INT64", "optional", None), ("f", 4, "FLOAT", "optional", None), ("b", 5, "BOOL", "optional", None),
        ("type", 6, "INT32", "optional", None), ("shape", 7, "MESSAGE", "optional", "TensorShapeProto"),
        ("tensor", 8, "MESSAGE", "optional", "TensorProto")],
    "AttrEntry": [("key", 1, "STRING", "optional", None), ("value", 2, "MESSAGE", "optional", "AttrValue")],
    "NodeDef": [("name", 1, "STRING", "optional", None), ("op", 2, "STRING", "optional", None),
                ("input", 3, "STRING", "repeated", None), ("attr", 5, "MESSAGE", "repeated", "AttrEntry")],
    "GraphDef": [("node", 1, "MESSAGE", "repeated", "NodeDef")],
}
_PACKAGE = "shelfscan_tf_subset"


@lru_cache(maxsize=1)
def _graphdef_class():
    """The ``GraphDef`` message class built from :data:`_SCHEMA` (proto2 syntax: scalars parse packed or not)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto2")
    for msg_name, fields in _SCHEMA.items():
        msg = fdp.message_type.add(name=msg_name)
        for name, number, ftype, label, type_name in fields:
            f = msg.field.add(name=name, number=number, type=getattr(descriptor_pb2.FieldDescriptorProto, _T + ftype),
                              label=getattr(descriptor_pb2.FieldDescriptorProto, "LABEL_" + label.upper()))
            if type_name:
                f.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.GraphDef"))


@dataclass
class TFNode:
    """One ``NodeDef``: ``attrs`` holds the raw ``AttrValue`` messages (see :func:`attr_value`)."""

    name: str
    op: str
    inputs: list[str]
    attrs: dict


def tensor_to_numpy(proto) -> np.ndarray:
    """A ``TensorProto`` -> numpy array of its dtype and shape (``tensor_content`` or a ``*_val`` field, a single
    value broadcast to the shape as TensorFlow does)."""
    if proto.dtype not in _DTYPES:
        raise FormatError("TensorProto", None, f"a dtype in {sorted(_DTYPES)}", str(proto.dtype))
    dtype = np.dtype(_DTYPES[proto.dtype])
    shape = tuple(int(d.size) for d in proto.tensor_shape.dim)
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype).reshape(shape).copy()
    values = {np.float32: proto.float_val, np.float64: proto.double_val, np.int64: proto.int64_val,
              np.bool_: proto.bool_val}.get(dtype.type, proto.int_val)
    if dtype == np.float16:
        values = np.array(proto.half_val, np.uint16).view(np.float16)
    arr = np.array(values, dtype=dtype)
    n = int(np.prod(shape)) if shape else 1
    if arr.size == n:
        return arr.reshape(shape)
    if arr.size == 1:
        return np.full(shape, arr[0], dtype=dtype)
    raise FormatError("TensorProto", None, f"{n} values for shape {shape}", f"{arr.size}")


def attr_value(node: TFNode, key: str):
    """The Python value of attribute ``key``: bytes -> str, list(i) -> list[int], tensor -> numpy, else scalar."""
    for field, v in node.attrs[key].ListFields():
        kind = field.name
        if kind == "s":
            return v.decode()
        if kind == "list":
            return list(v.i) or [s.decode() for s in v.s]
        if kind == "tensor":
            return tensor_to_numpy(v)
        return v
    return None


def read_graphdef(path: str | Path) -> dict[str, TFNode]:
    """Every node of the frozen graph at ``path``, by name, in file order.

    Raises:
        FormatError: the file is not a parsable ``GraphDef`` or has no nodes.
    """
    from google.protobuf.message import DecodeError

    path = Path(path)
    graph = _graphdef_class()()
    try:
        graph.ParseFromString(path.read_bytes())
    except DecodeError as exc:
        raise FormatError(path, None, "a TensorFlow GraphDef (.pb)", f"an unparsable file ({exc})") from exc
    if not graph.node:
        raise FormatError(path, None, "a TensorFlow GraphDef with nodes", "none")
    return {n.name: TFNode(n.name, n.op, list(n.input), {a.key: a.value for a in n.attr}) for n in graph.node}


def constants(nodes: dict[str, TFNode], prefix: str = "") -> dict[str, np.ndarray]:
    """The value of every numeric ``Const`` node whose name starts with ``prefix``, by node name (string
    constants, e.g. the ``Assert`` messages of a detection graph, are left out)."""
    return {name: attr_value(n, "value") for name, n in nodes.items()
            if n.op == "Const" and name.startswith(prefix) and n.attrs["value"].tensor.dtype in _DTYPES}
