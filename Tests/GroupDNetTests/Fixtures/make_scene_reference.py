#!/usr/bin/env python3
"""Runs the reference's own Cityscapes and ADE20K networks (Seanseattle/SMIS, built by its
option parser from its scripts' training arguments, as make_scene_state_dicts.py does) in
evaluation mode on one fixture sample each, and writes what G, E and D compute into
scene/<preset>.safetensors beside this file, for SceneReferenceTests.

Reduced width (default, committed): the reference only runs at its own image sizes (its
latent grid is fixed: 4x8 for Cityscapes at 512x256, 4x4 for ADE20K at 256x256), so the size
stays and the widths shrink: Cityscapes ngf 70 (the least its group numbers allow), ADE20K
ngf 8, ndf 8, and the encoder widths the reference hard-codes (350 and 151 * 4) made 35 and
151 by a textual substitution as the harness of make_smis_reference.py does. --full: the
presets exactly, written into .cache/reference-scene-full (not committed).

Weights are not stored: every parameter is a function of its name, so the Swift test makes
the same values. Parameter `NET.KEY` (e.g. `G.head_0.conv_0.weight_orig`) holds SplitMix64's
outputs seeded with FNV-1a-64 of that name, each as u = (x >> 11) / 2^53, value =
(2u - 1) * s with s = 0.1 for biases and sqrt(3 / fan_in) for weights (unit variance
gain). Then a few training-mode passes of G (z ~ N(0, 1)), E and D bring the running
statistics and the spectral-norm vectors u, v near the activations' own; these buffers are
stored (`buffer.NET.KEY`, small).

Entries: input.labels (U8, 1 x H x W), input.instances (U8, 2 bytes per id, little-endian;
Cityscapes only), input.image_bytes (U8, 1 x H x W x 3), input.z; eval.fake (float16 of
value / scale as U8 bytes, with eval.fake.scale), eval.mu, eval.logvar (E on the reference's
trans_img of the sample), eval.D.<scale> (D's prediction on seg + photo). The sample: the
first training sample of Fixtures/cityscapes (labels and instances resized nearest, photo
bicubic to 512x256) and of Fixtures/ade20k (ids shifted as the reference's dataset does,
256x256).
    python3 Tests/GroupDNetTests/Fixtures/make_scene_reference.py [--full] [--reference DIR]
"""
import argparse
import builtins
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

import make_smis_reference as harness

PRESETS = {
    "cityscapes": dict(args=["--dataset_mode", "cityscapes", "--netG", "Cityscapes"], ngf=(70, 280),
                       encoder=("ndf = 350", "ndf = 35"), size=(256, 512), classes=35,
                       photo="leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png",
                       label="gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png",
                       instances="gtFine/train/aachen/aachen_000000_000019_gtFine_instanceIds.png"),
    "ade20k": dict(args=["--dataset_mode", "ade20k", "--no_instance", "--netG", "ADE20K"], ngf=(8, 64),
                   encoder=("ndf = 151 * 4", "ndf = 151"), size=(256, 256), classes=151,
                   photo="images/training/ADE_train_00000001.jpg",
                   label="annotations/training/ADE_train_00000001.png", instances=None),
}
WARMUP = 8
GAMMA = np.uint64(0x9E3779B97F4A7C15)


def fnv1a64(text):
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def splitmix_units(seed, count):
    """The first `count` outputs of SplitMix64(seed) as uniform doubles in [0, 1)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + np.arange(1, count + 1, dtype=np.uint64) * GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def formula_parameter(name, shape):
    count = int(np.prod(shape))
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    scale = 0.1 if name.endswith("bias") else (3.0 / fan_in) ** 0.5
    values = (2 * splitmix_units(fnv1a64(name), count) - 1) * scale
    return torch.from_numpy(values.astype(np.float32)).reshape(shape)


def networks(preset, vgg_path, scratch, ngf, ndf):
    from options.train_options import TrainOptions
    from trainers.pix2pix_trainer import Pix2PixTrainer
    sys.argv = ["train.py", "--name", f"{preset}_smis", "--dataroot", scratch, "--gpu_ids", "-1",
                "--batchSize", "1", "--model", "smis", "--netE", "conv", "--vgg_path", vgg_path,
                "--checkpoints_dir", scratch, "--ngf", str(ngf), "--ndf", str(ndf)] + PRESETS[preset]["args"]
    quiet_print, builtins.print = builtins.print, lambda *args, **kwargs: None
    try:
        return Pix2PixTrainer(TrainOptions().parse()).pix2pix_model
    finally:
        builtins.print = quiet_print


def load_sample(preset, root):
    from PIL import Image
    spec = PRESETS[preset]
    height, width = spec["size"]
    photo = Image.open(os.path.join(root, spec["photo"])).convert("RGB").resize((width, height), Image.BICUBIC)
    label = np.array(Image.open(os.path.join(root, spec["label"])).resize((width, height), Image.NEAREST))
    if preset == "ade20k":   # the reference's ADE20KDataset.postprocess: label - 1, -1 -> label_nc
        label = label.astype(np.int64) - 1
        label[label == -1] = 150
    instances = None
    if spec["instances"]:
        instances = np.array(Image.open(os.path.join(root, spec["instances"])).resize((width, height), Image.NEAREST))
    return label.astype(np.uint8), instances, np.array(photo).astype(np.uint8)


def make(preset, arguments, vgg_path, scratch, full):
    spec = PRESETS[preset]
    ngf, ndf = (spec["ngf"][1], 64) if full else (spec["ngf"][0], 8)
    model = networks(preset, vgg_path, scratch, ngf, ndf)
    G, E, D = model.netG, model.netE, model.netD
    with torch.no_grad():
        for prefix, net in (("G", G), ("E", E), ("D", D)):
            for key, parameter in net.named_parameters():
                parameter.copy_(formula_parameter(f"{prefix}.{key}", tuple(parameter.shape)))
    label, instances, photo = load_sample(preset, os.path.join(harness.ROOT, "Fixtures", preset))
    data = harness.reference_data(torch.from_numpy(label)[None], torch.from_numpy(photo)[None])
    if instances is not None:
        data["instance"] = torch.from_numpy(instances.astype(np.float32))[None, None]
    seg, image = model.preprocess_input(dict(data))
    latent = (1, spec["classes"] * 8) + ((4, 8) if preset == "cityscapes" else (4, 4))
    with torch.no_grad():
        split = model.trans_img(seg, image)
        for _ in range(WARMUP):
            G(seg, z=torch.randn(latent))
            E(split)
            D(torch.cat([seg, image], dim=1))
    out = {"input.labels": torch.from_numpy(label)[None].contiguous(),
           "input.image_bytes": torch.from_numpy(photo)[None].contiguous(), "input.z": torch.randn(latent)}
    if instances is not None:
        out["input.instances"] = torch.from_numpy(instances.astype("<u2").view(np.uint8).copy())
    for prefix, net in (("G", G), ("E", E), ("D", D)):
        for key, buffer in net.named_buffers():
            out[f"buffer.{prefix}.{key}"] = buffer.detach().clone().contiguous()
        net.eval()
    with torch.no_grad():
        harness.half_entries("eval.fake", G(seg, z=out["input.z"]), out)
        out["eval.mu"], out["eval.logvar"] = E(split)
        for scale, outputs in enumerate(D(torch.cat([seg, image], dim=1))):
            out[f"eval.D.{scale}"] = outputs[-1].contiguous()
    folder = os.path.join(harness.ROOT, ".cache", "reference-scene-full") if full else os.path.join(harness.HERE, "scene")
    os.makedirs(folder, exist_ok=True)
    metadata = {"preset": preset, "ngf": str(ngf), "ndf": str(ndf),
                "encoder": spec["encoder"][1].split("= ")[1] if not full else "full"}
    path = os.path.join(folder, f"{preset}.safetensors")
    save_file({k: v.contiguous() for k, v in out.items()}, path, metadata=metadata)
    print(f"wrote {path}: fake max {out['eval.fake.scale'].item():.3f}, "
          f"mu max {out['eval.mu'].abs().max().item():.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the presets exactly, into .cache/reference-scene-full")
    parser.add_argument("--reference", default=os.environ.get(
        "SMIS_REFERENCE", os.path.join(harness.ROOT, ".cache", "SMIS")))
    parser.add_argument("--preset", choices=sorted(PRESETS), action="append")
    arguments = parser.parse_args()
    torch.manual_seed(20261207)
    torch.set_num_threads(2)
    scratch = os.path.join(harness.ROOT, ".cache", "reference-scratch")
    os.makedirs(scratch, exist_ok=True)
    size = dict(harness.SIZES["full"])
    harness.import_reference(os.path.abspath(arguments.reference), size)
    if not arguments.full:
        encoder = harness.sys.modules.get("models.networks.encoder")
        assert encoder is None, "the encoder must be patched before it is imported"
        harness.sys.meta_path.insert(0, harness.SourcePatcher(os.path.abspath(arguments.reference), {
            "models.networks.encoder": [PRESETS[p]["encoder"] for p in PRESETS]}))
    vgg_path = os.path.join(scratch, "vgg19.pth")
    torch.save(harness.make_vgg(size["vgg_divisor"]), vgg_path)
    for preset in arguments.preset or ["cityscapes", "ade20k"]:   # ade20k last: its file marks a complete set
        make(preset, arguments, vgg_path, scratch, arguments.full)


if __name__ == "__main__":
    main()
