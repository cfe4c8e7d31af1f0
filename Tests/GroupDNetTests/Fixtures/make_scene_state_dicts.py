#!/usr/bin/env python3
"""Lists the reference's own Cityscapes and ADE20K networks (Seanseattle/SMIS, built by its
option parser from the arguments of its scripts/cityscapes.sh and scripts/ade20k.sh) as
scene-state-dicts.tsv beside this file: one row per state_dict entry, `preset network name
shape dtype`, and a `# count` line per network with its parameter count. StateDictionaryTests
compares the Swift presets' checkpoint entries and parameter counts with it.

Needs the reference's source and torch (2.13 CPU); importing it on a CPU uses the harness of
make_smis_reference.py (stub cv2/torchvision, no CUDA). Nothing is trained or run: the
networks are only built.
    python3 Tests/GroupDNetTests/Fixtures/make_scene_state_dicts.py [--reference DIR]
"""
import argparse
import builtins
import os
import sys

import torch

import make_smis_reference as harness

# The training commands of the reference's scripts (commented out there, above the test
# commands), with the CPU and the harness's VGG file in place of the GPUs.
PRESETS = {
    "cityscapes": ["--dataset_mode", "cityscapes", "--ngf", "280", "--netG", "Cityscapes"],
    "ade20k": ["--dataset_mode", "ade20k", "--no_instance", "--ngf", "64", "--netG", "ADE20K"],
}


def networks(preset, vgg_path, scratch):
    from options.train_options import TrainOptions
    from trainers.pix2pix_trainer import Pix2PixTrainer
    sys.argv = ["train.py", "--name", f"{preset}_smis", "--dataroot", scratch, "--gpu_ids", "-1",
                "--batchSize", "1", "--niter", "100", "--niter_decay", "100", "--model", "smis",
                "--netE", "conv", "--vgg_path", vgg_path, "--checkpoints_dir", scratch] + PRESETS[preset]
    quiet_print, builtins.print = builtins.print, lambda *args, **kwargs: None   # it prints whole networks
    try:
        model = Pix2PixTrainer(TrainOptions().parse()).pix2pix_model
    finally:
        builtins.print = quiet_print
    return {"G": model.netG, "E": model.netE, "D": model.netD}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", default=os.environ.get(
        "SMIS_REFERENCE", os.path.join(harness.ROOT, ".cache", "SMIS")))
    arguments = parser.parse_args()
    scratch = os.path.join(harness.ROOT, ".cache", "reference-scratch")
    os.makedirs(scratch, exist_ok=True)
    size = harness.SIZES["full"]
    harness.import_reference(os.path.abspath(arguments.reference), size)
    vgg_path = os.path.join(scratch, "vgg19.pth")
    torch.save(harness.make_vgg(size["vgg_divisor"]), vgg_path)
    lines = [f"# {__doc__.splitlines()[0]}", "# preset\tnetwork\tname\tshape\tdtype"]
    for preset in PRESETS:
        for name, net in networks(preset, vgg_path, scratch).items():
            count = sum(p.numel() for p in net.parameters())
            lines.append(f"# count\t{preset}\t{name}\t{count}")
            for key, tensor in net.state_dict().items():
                shape = "x".join(str(d) for d in tensor.shape) or "scalar"
                dtype = {torch.float32: "F32", torch.int64: "I64"}[tensor.dtype]
                lines.append(f"{preset}\t{name}\t{key}\t{shape}\t{dtype}")
    out = os.path.join(harness.HERE, "scene-state-dicts.tsv")
    with open(out, "w") as file:
        file.write("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
