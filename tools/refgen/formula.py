"""Deterministic 'formula weights' shared by cyolo's C tests and the reference dumps.

Spec: /work/shared/reference/manifest.json, section formula_weights.

    h(x)      = x ^= x>>16; x *= 0x7feb352d; x ^= x>>15; x *= 0x846ca68b; x ^= x>>16   (uint32)
    seed(nm)  = 32-bit FNV-1a of the UTF-8 name (basis 2166136261, prime 16777619)
    u(nm, i)  = h(seed(nm) ^ h(i)) / 2^32   (double), i = flat C-order index

Every value is computed in double and rounded once to float32.
Measuring-instrument code: used only to produce test fixtures.
"""

import math

import numpy as np

M32 = np.uint64(0xFFFFFFFF)


def fnv1a(name: str) -> int:
    h = 2166136261
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def hash32(x: np.ndarray) -> np.ndarray:
    """The integer hash above on a uint32 array (done in uint64 and masked, so no overflow warnings)."""
    x = x.astype(np.uint64) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def u(name: str, n: int) -> np.ndarray:
    """u(name, i) for i = 0..n-1 as float64."""
    i = np.arange(n, dtype=np.uint64)
    v = hash32(np.uint64(fnv1a(name)) ^ hash32(i))
    return v.astype(np.float64) / 4294967296.0


def value(name: str, shape, kind: str) -> np.ndarray:
    """Formula values (float32, C order) for one tensor of the given kind."""
    n = int(np.prod(shape)) if len(shape) else 1
    x = u(name, n)
    if kind == "weight":
        fan_in = int(np.prod(shape[1:]))
        v = (x - 0.5) * 2.0 * math.sqrt(3.0 / fan_in)
    elif kind == "bn_weight":
        v = 0.8 + 0.4 * x
    elif kind in ("bn_bias", "bn_mean", "bias"):
        v = 0.2 * (x - 0.5)
    elif kind == "bn_var":
        v = 0.5 + x
    elif kind == "input":
        v = x
    else:
        raise ValueError(kind)
    return v.astype(np.float32).reshape(shape)


def make_input(shape, name="input") -> np.ndarray:
    return value(name, tuple(shape), "input")


def kind_of(key: str, tensor, bn_keys: set) -> str | None:
    """Which rule a state_dict entry gets; None = untouched."""
    if not tensor.is_floating_point():
        return None
    if key in bn_keys:
        return {"weight": "bn_weight", "bias": "bn_bias", "running_mean": "bn_mean", "running_var": "bn_var"}[
            key.rsplit(".", 1)[1]
        ]
    if key.endswith(".dfl.conv.weight"):  # DFL keeps arange(reg_max): the loss assumes it
        return None
    if tensor.ndim >= 2:
        return "weight"
    if tensor.ndim == 1:
        return "bias"
    return None


def apply_formula(model, bias_init=True) -> dict:
    """Overwrite a Ultralytics model's state_dict with formula values, in place.

    Returns counts per kind and the list of untouched keys. With bias_init the
    Detect head's bias_init() runs afterwards, as DetectionModel.__init__ does.
    """
    import torch
    import torch.nn as nn

    bn_keys = set()
    for mname, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            assert mname.endswith(".bn"), mname  # every BN lives in a Conv block in these detect models
            for suffix in ("weight", "bias", "running_mean", "running_var"):
                bn_keys.add(f"{mname}.{suffix}")
    sd = model.state_dict()
    counts, untouched = {}, []
    with torch.no_grad():
        for key, t in sd.items():
            k = kind_of(key, t, bn_keys)
            if k is None:
                if t.is_floating_point():
                    untouched.append(key)
                else:
                    counts["untouched_int"] = counts.get("untouched_int", 0) + 1
                continue
            t.copy_(torch.from_numpy(value(key, tuple(t.shape), k)))
            counts[k] = counts.get(k, 0) + 1
        if bias_init:
            model.model[-1].bias_init()
    return {"counts": counts, "untouched": untouched}


def selfcheck(manifest) -> int:
    """Compare against manifest['formula_selfcheck']; returns the number of entries checked."""
    kinds = {"input": "input"}
    n = 0
    for e in manifest["formula_selfcheck"]:
        name, i = e["name"], e["i"]
        assert f"{fnv1a(name):#010x}" == e["seed_fnv1a"], (name, e["seed_fnv1a"])
        assert f"{int(hash32(np.array([i]))[0]):#010x}" == e["h_i"], e
        uu = u(name, i + 1)[i]
        assert repr(float(uu)) == e["u"] or abs(uu - float(e["u"])) == 0, (uu, e["u"])
        if name == "input":
            kind = "input"
        elif name.endswith("bn.weight"):
            kind = "bn_weight"
        elif name.endswith("bn.bias"):
            kind = "bn_bias"
        elif name.endswith("running_mean"):
            kind = "bn_mean"
        elif name.endswith("running_var"):
            kind = "bn_var"
        elif name.endswith(".weight"):
            kind = "weight"
        else:
            kind = "bias"
        kinds[name] = kind
        shape = {"model.0.conv.weight": (16, 3, 3, 3)}.get(name, (i + 1,))
        v = value(name, shape, kind).reshape(-1)[i]
        assert v.tobytes()[::-1].hex() == e["value_float32_hex"], (name, i, v, e["value_float32_hex"])
        n += 1
    return n
