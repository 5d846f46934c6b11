"""The binding declares exactly the exports of include/sellsync.h, with the header's types."""
from __future__ import annotations

import re
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_int32, c_int64, c_uint32, c_void_p
from typing import Any, Dict, List, Tuple

import sellsync
from sellsync import _native

from conftest import HEADER

# C type (as written in the header, `struct` dropped) -> the ctypes type the binding must use.
C_TO_CTYPES: Dict[str, Any] = {
    "void": None,
    "const char *": c_char_p,  # borrowed string in, static string out
    "char *": c_void_p,  # an owned string: kept as a pointer so it can be freed
    "char **": POINTER(c_void_p),  # out-parameter of an owned string
    "SellSync *": c_void_p,
    "SellSync **": POINTER(c_void_p),
    "void *": c_void_p,
    "uint32_t": c_uint32,
    "int32_t": c_int32,
    "int64_t": c_int64,
    "sellsync_status": c_int32,
}


def _source() -> str:
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _split_params(params: str) -> List[str]:
    params = " ".join(params.split())
    if params in ("", "void"):
        return []
    out = []
    for p in params.split(","):
        p = p.strip()
        # Drop the parameter's name: the last identifier.
        m = re.match(r"^(.*?)\s*\b(\w+)$", p)
        assert m, f"cannot read parameter {p!r}"
        out.append(m.group(1))
    return out


def _norm(c_type: str) -> str:
    t = c_type.replace("struct ", "")
    t = re.sub(r"\s*\*", " *", " ".join(t.split()))
    return t.replace("* *", "**").strip()


def _callback_typedefs(src: str) -> Dict[str, Any]:
    out = {}
    for m in re.finditer(r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(sellsync_\w+)\s*\)\s*\(([^)]*)\)\s*;", src):
        ret, name, params = m.groups()
        out[name] = CFUNCTYPE(_ctype(ret, {}), *[_ctype(p, {}) for p in _split_params(params)])
    return out


def _ctype(c_type: str, callbacks: Dict[str, Any]) -> Any:
    t = _norm(c_type)
    if t in callbacks:
        return callbacks[t]
    assert t in C_TO_CTYPES, f"C type {t!r} has no ctypes mapping: add one to this test and the binding"
    return C_TO_CTYPES[t]


def _describe(t: Any) -> Any:
    """Comparable form of a ctypes type (function pointer types by their signature)."""
    if hasattr(t, "_argtypes_") and hasattr(t, "_restype_"):
        return ("function", _describe(t._restype_), tuple(_describe(a) for a in t._argtypes_))
    return t


def header_functions() -> Dict[str, Tuple[Any, Tuple[Any, ...]]]:
    src = _source()
    callbacks = _callback_typedefs(src)
    assert {"sellsync_event_callback", "sellsync_free_user", "sellsync_log_callback"} <= set(callbacks)
    out = {}
    pattern = r"(?:^|[;}{])\s*([A-Za-z_][\w\s\*]*?)\s*\b(sellsync_\w+)\s*\(([^()]*)\)\s*;"
    for m in re.finditer(pattern, src, flags=re.M):
        ret, name, params = m.groups()
        if ret.strip().startswith("typedef"):
            continue
        out[name] = (
            _describe(_ctype(ret, callbacks)),
            tuple(_describe(_ctype(p, callbacks)) for p in _split_params(params)),
        )
    return out


def test_header_is_read() -> None:
    functions = header_functions()
    # A sanity floor, so a broken regex cannot pass by reading nothing.
    assert len(functions) >= 27, sorted(functions)
    assert functions["sellsync_set_log_callback"][1][0] is c_void_p


def test_binding_declares_exactly_the_exports_of_the_header() -> None:
    header = header_functions()
    binding = {
        name: (_describe(res), tuple(_describe(a) for a in args))
        for name, (res, args) in _native.FUNCTIONS.items()
    }
    missing = sorted(set(header) - set(binding))
    extra = sorted(set(binding) - set(header))
    assert not missing, f"exports of the header the binding does not declare: {missing}"
    assert not extra, f"functions the binding declares that the header does not have: {extra}"
    for name in sorted(header):
        assert binding[name] == header[name], (
            f"{name}: binding declares {binding[name]}, header says {header[name]}"
        )


def test_loaded_library_has_every_declared_function() -> None:
    lib = sellsync.load_library()
    for name, (res, args) in _native.FUNCTIONS.items():
        f = getattr(lib, name)
        assert f.restype is res and list(f.argtypes) == list(args), name


def _defines(prefix: str) -> Dict[str, int]:
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"#define\s+(" + prefix + r"\w*)\s+(-?\d+)", HEADER.read_text())
    }


def test_every_status_code_has_its_exception() -> None:
    codes = _defines("SELLSYNC_ERR_")
    assert len(codes) >= 14
    assert {c: sellsync.ERRORS[c].name for c in codes.values()} == {
        v: k[len("SELLSYNC_ERR_"):] for k, v in codes.items()
    }
    assert set(sellsync.ERRORS) == set(codes.values())
    assert len({cls for cls in sellsync.ERRORS.values()}) == len(codes)


def test_flags_levels_and_version_match_the_header() -> None:
    flows = _defines("SELLSYNC_FLOW_")
    assert {f"SELLSYNC_FLOW_{n}": int(f) for n, f in sellsync.Flow.__members__.items()} == flows
    levels = _defines("SELLSYNC_LOG_")
    assert {f"SELLSYNC_LOG_{n}": int(v) for n, v in sellsync.LogLevel.__members__.items()} == levels
    assert _defines("SELLSYNC_VERSION_MAJOR")["SELLSYNC_VERSION_MAJOR"] == sellsync.VERSION_MAJOR
