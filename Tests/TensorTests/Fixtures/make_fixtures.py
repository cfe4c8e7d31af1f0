#!/usr/bin/env python3
"""Writes pytorch_reference.json: small PyTorch results that TensorTests compares against.

Run once (needs torch; the tests do not): python3 Tests/TensorTests/Fixtures/make_fixtures.py
Each case stores its inputs, a projection R, the output y, and the gradients of sum(y * R)
with respect to the inputs (and any state the operation changes), all float32.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)


def tensor(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}


def leaf(*shape):
    return torch.randn(*shape, dtype=torch.float32).requires_grad_(True)


def run(inputs, function):
    """y = function(*inputs); returns y, R and the input gradients of sum(y * R)."""
    y = function(*inputs)
    projection = torch.randn_like(y)
    (y * projection).sum().backward()
    return y, projection, [i.grad for i in inputs]


cases = {}


def add_case(name, inputs, function, **extra):
    y, projection, grads = run(inputs, function)
    case = {"inputs": [tensor(i) for i in inputs], "projection": tensor(projection), "output": tensor(y),
            "gradients": [tensor(g) for g in grads]}
    case.update({key: tensor(value) for key, value in extra.items()})
    cases[name] = case


# Convolutions: grouped with stride 2 on odd sizes, and the discriminator's kernel 4 / padding 2.
add_case("conv_groups2_stride2", [leaf(2, 4, 7, 5), leaf(6, 2, 3, 3), leaf(6)],
         lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2))
add_case("conv_k4_s2_p2", [leaf(2, 3, 9, 8), leaf(2, 3, 4, 4), leaf(2)],
         lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=2))

# Norms without affine parameters.
add_case("instance_norm", [leaf(2, 3, 5, 3)], lambda x: F.instance_norm(x, eps=1e-5))
batch_norm = torch.nn.BatchNorm2d(3, affine=False)
batch_norm.train()
add_case("batch_norm_train", [leaf(3, 3, 3, 5)], lambda x: batch_norm(x))
cases["batch_norm_train"]["running_mean"] = tensor(batch_norm.running_mean)
cases["batch_norm_train"]["running_var"] = tensor(batch_norm.running_var)

# Resampling.
add_case("resize_nearest_7x3_to_3x5", [leaf(2, 2, 7, 3)], lambda x: F.interpolate(x, size=(3, 5), mode="nearest"))
add_case("upsample_nearest_2x", [leaf(1, 2, 3, 5)], lambda x: F.interpolate(x, scale_factor=2, mode="nearest"))
add_case("average_pool_k3_s2_p1", [leaf(2, 2, 7, 5)],
         lambda x: F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False))

# Spectral norm of a grouped conv weight: one training forward (one power iteration), then
# the gradient of sum(W_sn * R) with respect to weight_orig.
conv = torch.nn.utils.spectral_norm(torch.nn.Conv2d(4, 6, 3, groups=2, bias=False))
u0, v0 = conv.weight_u.clone(), conv.weight_v.clone()
weight_orig = conv.weight_orig
conv.train()
conv(torch.zeros(1, 4, 3, 3))  # the forward pre-hook runs the power iteration
w_sn = conv.weight
projection = torch.randn_like(w_sn)
(w_sn * projection).sum().backward()
cases["spectral_norm_train"] = {
    "inputs": [tensor(weight_orig)], "projection": tensor(projection), "output": tensor(w_sn),
    "gradients": [tensor(weight_orig.grad)], "u_before": tensor(u0), "v_before": tensor(v0),
    "u_after": tensor(conv.weight_u), "v_after": tensor(conv.weight_v)}

# Adam with GroupDNet's betas, three steps on fixed gradients.
parameter = torch.nn.Parameter(torch.randn(5))
start = parameter.detach().clone()
adam = torch.optim.Adam([parameter], lr=1e-2, betas=(0.0, 0.9), eps=1e-8)
gradients = [torch.randn(5) for _ in range(3)]
for g in gradients:
    parameter.grad = g.clone()
    adam.step()
cases["adam_betas_0_0.9"] = {"inputs": [tensor(start)], "gradients": [tensor(g) for g in gradients],
                             "output": tensor(parameter)}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_reference.json")
with open(path + ".tmp", "w") as out:
    json.dump({"torch_version": torch.__version__, "cases": cases}, out, separators=(",", ":"))
os.replace(path + ".tmp", path)
print(f"wrote {path} ({len(cases)} cases, torch {torch.__version__})")
