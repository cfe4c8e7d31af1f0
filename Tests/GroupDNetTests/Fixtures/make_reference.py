#!/usr/bin/env python3
"""Writes the GroupDNet reference fixtures that GroupDNetTests compares the Swift model with.

Run once (needs torch 2.13 and safetensors; the tests do not):
    pip install "torch==2.13.0+cpu" safetensors
    python3 Tests/GroupDNetTests/Fixtures/make_reference.py

It builds the *tiny* preset of GroupDNet in PyTorch, written here from the specification
(/work/shared/spec/groupdnet.md) with the reference's module names, so that state_dict keys
are those of Seanseattle/SMIS: 8 classes, 64x64, ngf 4, CG-Norm hidden width 16, encoder
width 16 with five layers (no layer6 below crop 256), latent grid 2x2, decoder without the
upsampling between G_middle_0 and G_middle_1, discriminator of 8..64 channels at two scales.

Files (all safetensors):
  tiny_G.safetensors, tiny_E.safetensors, tiny_D.safetensors  state_dicts before any step
  tiny_reference.safetensors  inputs, outputs, losses, gradients and the buffers after the steps

Sequence (the Swift test replays it):
  1. G in eval mode on (seg, z)                                  -> eval.fake
  2. generator step, all nets in train mode, eps_g               -> gstep.* and grad.G.*, grad.E.*
     (split image -> E -> z = mu + eps*exp(logvar/2) -> G -> D(fake and real stacked);
      loss = GAN + 10*feature matching + 0.05*KLD; backward)
  3. discriminator step: fake regenerated under no_grad with eps_d, D on fake and real,
     D grads zeroed first                                         -> dstep.* and grad.D.*
  4. every buffer (weight_u, weight_v, running_mean/var, num_batches_tracked) -> after.<net>.<key>
  5. three training iterations with Adam and TTUR (G+E lr 1e-4, D lr 4e-4, betas (0, 0.9)):
     zero G/E grads, generator step with adam.<i>.eps_g, step G+E; zero D grads,
     discriminator step with adam.<i>.eps_d, step D -> adam.<i>.<loss>, then a few parameters
     after the last step -> adam.final.<net>.<key>
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.nn.utils import spectral_norm

from fixture_support import randomize

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES, SIZE, NGF, HIDDEN, ENCODER_WIDTH, D_CHANNELS, LATENT_PER_CLASS = 8, 64, 4, 16, 16, 8, 8
BATCH = 2
LATENT = SIZE // 32  # five stride-2 encoder layers below crop 256

torch.manual_seed(20261125)
torch.set_num_threads(1)


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class CGNorm(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.param_free_norm = nn.BatchNorm2d(channels, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(CLASSES, HIDDEN, 3, padding=1, groups=groups), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(HIDDEN, channels, 3, padding=1, groups=groups)
        self.mlp_beta = nn.Conv2d(HIDDEN, channels, 3, padding=1, groups=groups)

    def forward(self, x, seg):
        normalized = self.param_free_norm(x)
        seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        hidden = self.mlp_shared(seg)
        return normalized * (1 + self.mlp_gamma(hidden)) + self.mlp_beta(hidden)


class CGBlock(nn.Module):
    def __init__(self, fin, fout, groups):
        super().__init__()
        middle = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.conv_0 = spectral_norm(nn.Conv2d(fin, middle, 3, padding=1, groups=groups))
        self.conv_1 = spectral_norm(nn.Conv2d(middle, fout, 3, padding=1, groups=groups))
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, 1, bias=False, groups=groups))
        self.norm_0 = CGNorm(fin, groups)
        self.norm_1 = CGNorm(middle, groups)
        if self.learned_shortcut:
            self.norm_s = CGNorm(fin, groups)

    def forward(self, x, seg):
        shortcut = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(lrelu(self.norm_0(x, seg)))
        dx = self.conv_1(lrelu(self.norm_1(dx, seg)))
        return shortcut + dx


# (name, fin/ngf, fout/ngf, groups, upsample before)
BLOCKS = [("head_0", 16, 16, 8, False), ("G_middle_0", 16, 16, 8, True), ("G_middle_1", 16, 16, 4, False),
          ("up_0", 16, 8, 4, True), ("up_1", 8, 4, 2, True), ("up_2", 4, 2, 2, True), ("up_3", 2, 1, 1, True)]


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Conv2d(CLASSES * LATENT_PER_CLASS, 16 * NGF, 3, padding=1, groups=CLASSES)
        for name, fin, fout, groups, _ in BLOCKS:
            self.add_module(name, CGBlock(fin * NGF, fout * NGF, groups))
        self.conv_img = nn.Conv2d(NGF, 3, 3, padding=1)

    def forward(self, seg, z):
        x = self.fc(z)
        for name, _, _, _, upsample in BLOCKS:
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = getattr(self, name)(x, seg)
        return torch.tanh(self.conv_img(lrelu(x)))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [ENCODER_WIDTH * m for m in (1, 2, 4, 8, 8)]
        previous = 3 * CLASSES
        for index, width in enumerate(widths):
            conv = spectral_norm(nn.Conv2d(previous, width, 3, stride=2, padding=1, groups=CLASSES, bias=False))
            self.add_module(f"layer{index + 1}", nn.Sequential(conv, nn.InstanceNorm2d(width, affine=False)))
            previous = width
        self.layer_count = len(widths)
        self.fc_mu = nn.Conv2d(previous, CLASSES * LATENT_PER_CLASS, 3, padding=1, groups=CLASSES)
        self.fc_var = nn.Conv2d(previous, CLASSES * LATENT_PER_CLASS, 3, padding=1, groups=CLASSES)

    def forward(self, x):
        for index in range(self.layer_count):
            if index > 0:
                x = lrelu(x)
            x = getattr(self, f"layer{index + 1}")(x)
        x = lrelu(x)
        return self.fc_mu(x), self.fc_var(x)


class PatchDiscriminator(nn.Module):
    def __init__(self, layers=4):
        super().__init__()
        nf = D_CHANNELS
        self.model0 = nn.Sequential(nn.Conv2d(CLASSES + 3, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2))
        for n in range(1, layers):
            previous, nf = nf, min(nf * 2, 512)
            stride = 1 if n == layers - 1 else 2
            conv = spectral_norm(nn.Conv2d(previous, nf, 4, stride=stride, padding=2, bias=False))
            self.add_module(f"model{n}", nn.Sequential(nn.Sequential(conv, nn.InstanceNorm2d(nf, affine=False)),
                                                      nn.LeakyReLU(0.2)))
        self.add_module(f"model{layers}", nn.Sequential(nn.Conv2d(nf, 1, 4, stride=1, padding=2)))

    def forward(self, x):
        outputs = []
        for module in self.children():
            x = module(x)
            outputs.append(x)
        return outputs


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.discriminator_0 = PatchDiscriminator()
        self.discriminator_1 = PatchDiscriminator()

    def forward(self, x):
        outputs = [self.discriminator_0(x)]
        x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        outputs.append(self.discriminator_1(x))
        return outputs


def split_image(seg, image):
    """Per sample and class: image masked to the class, cropped to the class's box (from the
    mask), resized nearest to SIZE x SIZE; absent classes give zeros. Also the boxes."""
    blocks, boxes = [], torch.full((seg.shape[0], CLASSES, 4), -1, dtype=torch.int64)
    for n in range(seg.shape[0]):
        per_class = []
        for c in range(CLASSES):
            mask = seg[n, c]
            masked = image[n] * mask
            rows = mask.sum(dim=1).nonzero()
            if rows.numel() == 0:
                per_class.append(torch.zeros_like(image[n]))
                continue
            columns = mask.sum(dim=0).nonzero()
            top, bottom, left, right = rows[0, 0], rows[-1, 0], columns[0, 0], columns[-1, 0]
            boxes[n, c] = torch.tensor([top, bottom, left, right])
            crop = masked[:, top:bottom + 1, left:right + 1].unsqueeze(0)
            per_class.append(F.interpolate(crop, size=(SIZE, SIZE), mode="nearest")[0])
        blocks.append(torch.cat(per_class, dim=0))
    return torch.stack(blocks), boxes


def checksum_weights(count):
    """Position weights for the split-image checksums (the Swift test computes the same)."""
    index = torch.arange(count, dtype=torch.float64)
    return torch.remainder(index * 37.0, 101.0) / 101.0


def make_labels():
    labels = torch.full((BATCH, SIZE, SIZE), 7, dtype=torch.uint8)  # background
    # sample 0: every class but 5 (socks); overlapping rectangles
    for c, (t, b, l, r) in enumerate([(2, 14, 20, 44), (10, 22, 24, 40), (20, 60, 6, 58), (22, 40, 14, 50),
                                      (40, 58, 16, 48)]):
        labels[0, t:b, l:r] = c
    labels[0, 58:63, 10:20] = 6
    labels[0, 58:63, 40:52] = 6
    # sample 1: random blobs, class 0 as a single pixel, class 3 absent
    generator = torch.Generator().manual_seed(5)
    for c in (1, 2, 4, 5, 6):
        t, l = torch.randint(0, SIZE - 8, (2,), generator=generator).tolist()
        h, w = torch.randint(4, 30, (2,), generator=generator).tolist()
        labels[1, t:t + h, l:l + w] = c
    labels[1, 33, 17] = 0
    return labels


def main():
    G, E, D = Generator(), Encoder(), Discriminator()
    for net in (G, E, D):
        randomize(net)
    labels = make_labels()
    image_bytes = torch.randint(0, 256, (BATCH, SIZE, SIZE, 3), dtype=torch.uint8)
    seg = F.one_hot(labels.long(), CLASSES).permute(0, 3, 1, 2).to(torch.float32).contiguous()
    image = image_bytes.permute(0, 3, 1, 2).to(torch.float32) / 127.5 - 1
    latent_shape = (BATCH, CLASSES * LATENT_PER_CLASS, LATENT, LATENT)
    # Warm-up: train-mode passes bring the running statistics near the activations' own, so
    # that evaluation mode neither explodes nor saturates tanh; u and v iterate meanwhile.
    with torch.no_grad():
        G.conv_img.weight.mul_(0.1)
        G.train()
        for _ in range(30):
            G(seg, torch.randn(latent_shape))
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(HERE, f"tiny_{name}.safetensors"))
    z, eps_g, eps_d = torch.randn(latent_shape), torch.randn(latent_shape), torch.randn(latent_shape)
    out = {"input.labels": labels, "input.image_bytes": image_bytes, "input.z": z,
           "input.eps_g": eps_g, "input.eps_d": eps_d}

    # 1. evaluation
    for net in (G, E, D):
        net.eval()
    with torch.no_grad():
        out["eval.fake"] = G(seg, z)

    # 2. generator step
    for net in (G, E, D):
        net.train()
    split, boxes = split_image(seg, image)
    flat = split.to(torch.float64).reshape(BATCH * 3 * CLASSES, -1)
    out["split.boxes"] = boxes
    out["split.sums"] = flat.sum(dim=1).to(torch.float32)
    out["split.weighted_sums"] = (flat * checksum_weights(flat.shape[1])).sum(dim=1).to(torch.float32)

    def generator_step(eps):
        mu, logvar = E(split)
        fake = G(seg, mu + eps * torch.exp(0.5 * logvar))
        predictions = D(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, image], 1)], 0))
        pred_fake = [[t[:BATCH] for t in scale] for scale in predictions]
        pred_real = [[t[BATCH:] for t in scale] for scale in predictions]
        gan = sum(-p[-1].mean() for p in pred_fake) / len(pred_fake)
        feat = sum(F.l1_loss(f, r.detach()) * 10.0 / len(pred_fake)
                   for pf, pr in zip(pred_fake, pred_real) for f, r in zip(pf[:-1], pr[:-1]))
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) * 0.05
        total = gan + feat + kld
        total.backward()
        result = {"mu": mu, "logvar": logvar, "fake": fake, "gan": gan, "feat": feat, "kld": kld, "total": total}
        for s in range(2):
            result[f"pred_fake_{s}"] = pred_fake[s][-1]
            result[f"pred_real_{s}"] = pred_real[s][-1]
        return result

    def discriminator_step(eps):
        D.zero_grad()
        with torch.no_grad():
            mu, logvar = E(split)
            fake = G(seg, mu + eps * torch.exp(0.5 * logvar))
        predictions = D(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, image], 1)], 0))
        d_fake = sum(F.relu(1 + p[-1][:BATCH]).mean() for p in predictions) / len(predictions)
        d_real = sum(F.relu(1 - p[-1][BATCH:]).mean() for p in predictions) / len(predictions)
        (d_fake + d_real).backward()
        result = {"fake": fake, "loss_fake": d_fake, "loss_real": d_real}
        for s in range(2):
            result[f"pred_{s}"] = predictions[s][-1]
        return result

    for key, value in generator_step(eps_g).items():
        out[f"gstep.{key}"] = value
    for key in ("fc.weight", "fc.bias", "head_0.conv_0.weight_orig", "head_0.norm_0.mlp_gamma.weight",
                "G_middle_1.norm_1.mlp_shared.0.weight", "up_0.conv_s.weight_orig", "up_1.norm_s.mlp_beta.bias",
                "up_3.conv_1.weight_orig", "up_3.norm_1.mlp_beta.weight", "conv_img.weight", "conv_img.bias"):
        out[f"grad.G.{key}"] = G.get_parameter(key).grad.clone()
    for key in ("layer1.0.weight_orig", "layer3.0.weight_orig", "layer5.0.weight_orig", "fc_mu.weight", "fc_mu.bias",
                "fc_var.weight", "fc_var.bias"):
        out[f"grad.E.{key}"] = E.get_parameter(key).grad.clone()

    # 3. discriminator step (D's gradients from the generator step are discarded first)
    for key, value in discriminator_step(eps_d).items():
        out[f"dstep.{key}"] = value
    for key in ("discriminator_0.model0.0.weight", "discriminator_0.model0.0.bias", "discriminator_0.model1.0.0.weight_orig",
                "discriminator_0.model3.0.0.weight_orig", "discriminator_1.model2.0.0.weight_orig",
                "discriminator_1.model4.0.weight", "discriminator_1.model4.0.bias"):
        out[f"grad.D.{key}"] = D.get_parameter(key).grad.clone()

    # 4. buffers after both steps
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        for key, buffer in net.named_buffers():
            out[f"after.{name}.{key}"] = buffer.clone()  # the Adam iterations below update them in place

    # 5. three iterations with Adam (TTUR)
    optimizer_g = torch.optim.Adam(list(G.parameters()) + list(E.parameters()), lr=1e-4, betas=(0.0, 0.9))
    optimizer_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    for i in range(3):
        out[f"adam.{i}.eps_g"], out[f"adam.{i}.eps_d"] = torch.randn(latent_shape), torch.randn(latent_shape)
        optimizer_g.zero_grad()
        g = generator_step(out[f"adam.{i}.eps_g"])
        optimizer_g.step()
        d = discriminator_step(out[f"adam.{i}.eps_d"])
        optimizer_d.step()
        for key in ("gan", "feat", "kld", "total"):
            out[f"adam.{i}.{key}"] = g[key]
        out[f"adam.{i}.loss_fake"], out[f"adam.{i}.loss_real"] = d["loss_fake"], d["loss_real"]
    for net, name, key in ((G, "G", "conv_img.weight"), (G, "G", "head_0.conv_1.weight_orig"), (E, "E", "fc_var.bias"),
                           (E, "E", "layer2.0.weight_orig"), (D, "D", "discriminator_0.model0.0.bias"),
                           (D, "D", "discriminator_1.model3.0.0.weight_orig")):
        out[f"adam.final.{name}.{key}"] = net.get_parameter(key)

    out = {k: (v.detach().reshape(()) if v.dim() == 0 else v.detach()).contiguous() for k, v in out.items()}
    save_file(out, os.path.join(HERE, "tiny_reference.safetensors"))
    def saturated(t):
        return (t.abs() > 0.99).float().mean().item()
    print(f"eval fake: std {out['eval.fake'].std():.3f}, saturated {saturated(out['eval.fake']):.3f}; "
          f"train fake std {out['gstep.fake'].std():.3f}, saturated {saturated(out['gstep.fake']):.3f}")
    for i in range(3):
        print(f"iteration {i}: " + " ".join(f"{key} {out[f'adam.{i}.{key}'].item():.5f}"
                                              for key in ("gan", "feat", "kld", "loss_fake", "loss_real")))
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".safetensors"):
            print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
