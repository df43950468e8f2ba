"""Reads a wasmgrad model bundle (safetensors) with PyTorch and runs its forward pass.

Usage: python3 forward.py MODEL.safetensors INPUT.safetensors OUTPUT.safetensors

Run by test/node/io-pytorch.test.ts to show that PyTorch reads the safetensors files wasmgrad
writes and computes the same predictions. The reader is deliberately minimal (8-byte header
length, JSON header, torch.frombuffer over the data; no `safetensors` package): it checks what it
relies on. The layers come from the topology wasmgrad stores in the header's __metadata__
("wasmgrad.topology"), translated to torch ops for the classes this script knows; NHWC tensors
are permuted to PyTorch's NCHW around convolutions and pooling.
"""

import json
import struct
import sys

import torch
import torch.nn.functional as F


def read_safetensors(path):
    """Returns ({name: float32 tensor}, metadata) from a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    body = bytearray(data[8 + n :])
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        begin, end = info["data_offsets"]
        count = (end - begin) // 4
        t = torch.frombuffer(body, dtype=torch.float32, offset=begin, count=count) if count else torch.zeros(0)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def activation(x, spec):
    name, alpha = (spec, None) if isinstance(spec, str) else (spec["name"], spec.get("alpha"))
    if name == "linear":
        return x
    if name == "relu":
        return F.relu(x)
    if name == "relu6":
        return F.relu6(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return F.softmax(x, dim=-1)
    if name == "leakyRelu":
        return F.leaky_relu(x, 0.2 if alpha is None else alpha)
    if name == "elu":
        return F.elu(x, 1.0 if alpha is None else alpha)
    if name == "gelu":
        return F.gelu(x)
    if name == "swish":
        return F.silu(x)
    raise ValueError(f"activation {name} is not known to this script")


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def same_padding(size, kernel, stride, dilation):
    """TF 'same' padding (extra pixel at the end) for one spatial axis: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def nchw_op(x, fn):
    """Applies fn to an NHWC tensor through NCHW."""
    return fn(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


def pad_same(x, kernel, strides, dilation, value=0.0):
    (t, b), (l, r) = (same_padding(x.shape[2 + i], kernel[i], strides[i], dilation[i]) for i in range(2))
    return F.pad(x, (l, r, t, b), value=value)


def forward(layers, weights, x):
    for layer in layers:
        cls, c, name = layer["className"], layer["config"], layer["config"]["name"]
        w = lambda key: weights[f"{name}/{key}"]  # noqa: E731
        if cls == "Dense":
            x = x @ w("kernel")
            if c.get("useBias", True):
                x = x + w("bias")
            x = activation(x, c.get("activation", "linear"))
        elif cls == "Conv2D":
            k, s, d = pair(c["kernelSize"]), pair(c.get("strides", 1)), pair(c.get("dilationRate", 1))
            kernel = w("kernel").permute(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
            bias = w("bias") if c.get("useBias", True) else None

            def conv(t):
                if c.get("padding", "valid") == "same":
                    t = pad_same(t, k, s, d)
                return F.conv2d(t, kernel, bias, stride=s, dilation=d)

            x = activation(nchw_op(x, conv), c.get("activation", "linear"))
        elif cls in ("MaxPooling2D", "AveragePooling2D"):
            k = pair(c.get("poolSize", 2))
            s = pair(c.get("strides") or k)
            assert c.get("padding", "valid") == "valid", "only valid pooling here"
            op = F.max_pool2d if cls == "MaxPooling2D" else F.avg_pool2d
            x = nchw_op(x, lambda t: op(t, k, s))
        elif cls == "GlobalAveragePooling2D":
            x = x.mean(dim=(1, 2))
        elif cls == "Flatten":
            x = x.reshape(x.shape[0], -1)  # NHWC order, as wasmgrad and Keras flatten
        elif cls == "Dropout":
            pass  # inference
        elif cls == "Activation":
            x = activation(x, c["activation"])
        elif cls == "BatchNormalization":
            eps = c.get("epsilon", 1e-3)
            gamma = w("gamma") if c.get("scale", True) else 1.0
            beta = w("beta") if c.get("center", True) else 0.0
            x = (x - w("moving_mean")) / torch.sqrt(w("moving_variance") + eps) * gamma + beta
        elif cls == "LayerNormalization":
            eps = c.get("epsilon", 1e-3)
            mean = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, unbiased=False, keepdim=True)
            x = (x - mean) / torch.sqrt(var + eps)
            if c.get("scale", True):
                x = x * w("gamma")
            if c.get("center", True):
                x = x + w("beta")
        else:
            raise ValueError(f"layer class {cls} is not known to this script")
    return x


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    weights, metadata = read_safetensors(model_path)
    topology = json.loads(metadata["wasmgrad.topology"])
    assert topology["className"] == "Sequential", topology["className"]
    inputs, _ = read_safetensors(input_path)
    with torch.no_grad():
        y = forward(topology["config"]["layers"], weights, inputs["x"])
    write_safetensors(output_path, {"y": y})
    print(json.dumps({"torch": torch.__version__, "shape": list(y.shape), "weights": len(weights)}))


if __name__ == "__main__":
    main()
