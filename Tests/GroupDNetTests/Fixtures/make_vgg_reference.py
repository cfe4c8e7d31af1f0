#!/usr/bin/env python3
"""Writes tiny_vgg.safetensors, the fixture VGGLossTests compares the Swift VGG loss with.

Run once (needs torch 2.13 and safetensors; the tests do not, and no torchvision is needed):
    pip install "torch==2.13.0+cpu" safetensors
    python3 Tests/GroupDNetTests/Fixtures/make_vgg_reference.py

It builds torchvision's VGG19 `features` topology up to relu5_1 in plain PyTorch, with the same
module indices (so state_dict keys are torchvision's `features.<i>.weight/bias`) but every width
divided by CHANNEL_DIVISOR (64, 128, 256, 512 -> 2, 4, 8, 16), and SPADE's VGGLoss on top:
slices [0:2], [2:7], [7:12], [12:21], [21:30]; loss = sum_i w_i * L1(vgg_i(fake), vgg_i(real).detach())
with w = 1/32, 1/16, 1/8, 1/4, 1; images in [-1, 1] with no ImageNet normalisation.

The inputs are 2x3x20x20: 20 -> 10 -> 5 -> 2 -> 1 under the four poolings, so the third one
drops an odd row and column (floor mode) as it does for odd sizes in the real network. The
weights are He-normal (as VGG's training keeps activations near unit scale), so the deep
features, the loss and its gradient do not vanish at these small widths.

Entries:
  features.<i>.weight, features.<i>.bias   the network (He-normal weights, small biases, fixed seed)
  input.fake, input.real                   images in [-1, 1]
  vgg.features_<k>                         relu{k+1}_1 of the fake image, k = 0..4
  vgg.loss                                 the loss (a scalar)
  vgg.grad_fake                            d loss / d fake
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
CHANNEL_DIVISOR = 32
PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
SLICES = [(0, 2), (2, 7), (7, 12), (12, 21), (21, 30)]
WEIGHTS = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0]

torch.manual_seed(20261125)
torch.set_num_threads(1)


def features():
    """torchvision's vgg19().features[0:30], widths divided by CHANNEL_DIVISOR."""
    layers, channels = [], 3
    for item in PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            width = item // CHANNEL_DIVISOR
            conv = nn.Conv2d(channels, width, kernel_size=3, padding=1)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.uniform_(conv.bias, -0.1, 0.1)
            layers += [conv, nn.ReLU()]
            channels = width
    assert len(layers) == 30
    return nn.Sequential(*layers)


def sliced(net, x):
    outputs = []
    for start, end in SLICES:
        for index in range(start, end):
            x = net[index](x)
        outputs.append(x)
    return outputs


def main():
    net = features()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    fake = torch.tanh(torch.randn(2, 3, 20, 20)).requires_grad_(True)
    real = torch.tanh(torch.randn(2, 3, 20, 20))

    fake_features, real_features = sliced(net, fake), sliced(net, real)
    loss = sum(w * F.l1_loss(f, r.detach()) for w, f, r in zip(WEIGHTS, fake_features, real_features))
    loss.backward()

    entries = {f"features.{key}": value.contiguous() for key, value in net.state_dict().items()}
    entries["input.fake"] = fake.detach().contiguous()
    entries["input.real"] = real.contiguous()
    for k, feature in enumerate(fake_features):
        entries[f"vgg.features_{k}"] = feature.detach().contiguous()
    entries["vgg.loss"] = loss.detach().reshape([])
    entries["vgg.grad_fake"] = fake.grad.contiguous()
    path = os.path.join(HERE, "tiny_vgg.safetensors")
    save_file(entries, path)
    print(f"wrote {path}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
