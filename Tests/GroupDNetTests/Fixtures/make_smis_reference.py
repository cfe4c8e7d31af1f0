#!/usr/bin/env python3
"""Runs the reference's own code (Seanseattle/SMIS) to write the fixtures that
SMISReferenceTests compares the Swift GroupDNet and its training iteration with.

Unlike make_reference.py beside this file (a model written from our specification), nothing
here models GroupDNet: the networks, losses, optimisers and the training iteration are the
reference's `SmisModel` and `Pix2PixTrainer`, built by its own option parser from the
arguments of its `scripts/deepfashion.sh`. This script only supplies weights, a batch, fixed
noise, and records what the reference computes.

Needs (the Swift tests do not): the reference's source, torch 2.13 CPU, safetensors, Pillow.
    pip install "torch==2.13.0+cpu" safetensors pillow
    git clone <the reference> .cache/SMIS        # or point SMIS_REFERENCE at a copy
    scripts/demo                                 # writes out/prepared (the batch comes from it)
    python3 Tests/GroupDNetTests/Fixtures/make_smis_reference.py           # reduced, committed
    python3 Tests/GroupDNetTests/Fixtures/make_smis_reference.py --full    # .cache/reference-full

The reference is found at --reference, else $SMIS_REFERENCE, else .cache/SMIS under the
package root (ignored by git). Its code is imported, never copied; it is CUDA-only in places,
so the harness below makes it importable on a CPU without editing its files:
  - `cv2` and `torchvision` are stub modules (the model imports cv2 but never calls it; the
    only torchvision use is `vgg19(pretrained=False)` in its VGG19, answered with a network of
    torchvision's `features` layout written here, whose weights the reference then loads from
    --vgg_path as it does for a user's file);
  - `dill` is the standard `pickle` (only the option-file code uses it);
  - `Module.cuda()` returns the module unchanged (`VGGLoss` calls `.cuda()`); `--gpu_ids -1`
    keeps everything else on the CPU and without DataParallel;
  - torch.optim.Adam gets its betas as floats: the reference passes (0, 0.9) with TTUR, and
    torch 2.13 refuses an int beside a float (the values are the same).

Sizes. --full: the DeepFashion model exactly (ngf 160, ndf 64, CG-Norm hidden width 128,
encoder width 256, VGG19 at full width). Reduced (default): the same depth, every layer, at
256x256, with ngf 8, ndf 8, and two constants the reference hard-codes made small by a textual
substitution applied to its source as it is imported (asserted to match exactly once, so a
changed reference fails loudly): `nhidden = 128` of GROUP_SPADE's DeepFashion branch -> 16,
and ConvEncoder's DeepFashion width `ndf = 256` -> 16; its VGG19 has every width / 32.

Weights: the reference's initialisation (Xavier, gain 0.02) is replaced by perturbed random
values so that every layer matters: Xavier-normal gain 1 weights, N(0, 0.1) biases, random
batch-norm running statistics and batch counters; conv_img and fc_var are scaled down so that
tanh does not saturate and exp(logvar) stays moderate. Then a few train-mode generator passes
bring the running statistics near the activations' own (so eval mode is meaningful). These
are the starting weights, stored as G/E/D.safetensors under the reference's state_dict names.

Batch: two training samples of out/prepared (SAMPLES, two people), label ids from the
cihp_train_mask PNGs, photos from train/; stored as bytes. The image is normalised the
reference's way (torchvision ToTensor then Normalize(0.5, 0.5)). No flip (the batch is handed
to the model directly).

Noise: the reference draws eps with torch.randn_like inside `reparameterize`; a recording
wrapper around torch.randn_like stores each eps it returns, and the Swift test feeds them in.
Scenario "trainer" instead forces logvar very low (fc_var.bias - 1000 on both sides): then
exp(logvar / 2) underflows to 0 in float32, z = mu exactly, and any eps gives the same result;
the Swift test then runs its own TrainingStep, which draws its own noise. (A shift of 40,
leaving z = mu + eps * 2e-9, is not enough: the reference's own gradients then change by up to
1 % from one eps draw to another, a sensitivity of the VGG and discriminator paths to the
last bits of z.)

Sequence and entries of reference.safetensors (F32 unless said):
  input.labels (U8, N x H x W), input.image_bytes (U8, N x H x W x 3), input.z
  eval.fake               G in eval mode on (seg, input.z), stored as float16 (see below)
  iteration, the reference's Pix2PixTrainer: run_generator_one_step then
  run_discriminator_one_step, from the stored weights:
    gstep.eps, gstep.mu, gstep.logvar, gstep.fake, gstep.pred_<scale> (D's last layer,
    fake samples then real), gstep.<GAN|GAN_Feat|KLD|VGG> (weighted as the reference sums
    them), gstep.total; grad.G.<name>, grad.E.<name> (every parameter, after the G step)
    dstep.eps, dstep.mu, dstep.logvar, dstep.pred_<scale>, dstep.<D_Fake|D_real>;
    grad.D.<name> (every parameter, after the D step, so with G and E already updated)
    after.<net>.<buffer>    every buffer after the iteration (u, v, running statistics)
    update.<net>.<name>     [sum of the Adam update, sum of its absolute values] per parameter
    patch.<net>.<name>.index (I64), .value: G and E weights after the G step's Adam update
                            where the gradient is within float32 rounding of 0 (see
                            ill_conditioned_entries)
  trainer (logvar forced low), the same two steps from the same weights:
    trainer.<loss> for GAN, GAN_Feat, KLD, VGG, D_Fake, D_real;
    trainer.grad.<net>.<name>  [sum, sum of absolute values, max absolute value] per parameter
    trainer.patch.<net>.<name>.index, .value  as patch.* for this scenario
    trainer.update.<net>.<name>  as update.* for this scenario (checks the optimisers' settings)
Gradients (grad.<net>.<name>) and eval.fake are stored as float16 of value / scale (U8 bytes,
2 per value, little-endian) with <entry>.scale (F32) = the tensor's largest absolute value, to
keep the committed fixture small (every gradient tensor is still stored whole); everything
else is float32. The file's metadata holds the sizes (ngf, ndf, hidden, encoder, vgg_divisor).
"""
import argparse
import importlib.abc
import importlib.util
import os
import pickle
import sys
import types

import torch
import torch.nn as nn
from safetensors.torch import save_file

from fixture_support import randomize

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
BATCH = 2
CLASSES = 8
VGG_PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
LOW_LOGVAR_SHIFT = 1000.0
CONV_IMG_SCALE = 0.5
# Gradients within this fraction of their tensor's largest have no reproducible sign: the
# reference itself, run without oneDNN or on another thread count, moves its G-step gradients by
# up to 2e-3 of their tensor's largest (measure_reference_spread.py); 1e-4 was too small for that.
ILL_CONDITIONED = 3e-3
# Two people of the synthetic fixture set, as `scripts/demo` prepares them (256x256, 8 classes).
SAMPLES = ["WOMEN-Jackets_Coats-id_00000003-01_1_front", "WOMEN-Pants-id_00000001-01_1_front"]

SIZES = {
    # ngf, ndf, CG-Norm hidden width, encoder width, VGG width divisor, warm-up passes, output folder
    "reduced": dict(ngf=8, ndf=8, hidden=16, encoder=16, vgg_divisor=32, warmup=20,
                    out=os.path.join(HERE, "smis")),
    "full": dict(ngf=160, ndf=64, hidden=128, encoder=256, vgg_divisor=1, warmup=6,
                 out=os.path.join(ROOT, ".cache", "reference-full")),
}


# MARK: - Importing the reference on a CPU

class SourcePatcher(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports listed reference modules with exact textual substitutions (width constants)."""

    def __init__(self, root, patches):
        self.root, self.patches = root, patches

    def find_spec(self, name, path, target=None):
        if name in self.patches:
            origin = os.path.join(self.root, *name.split(".")) + ".py"
            return importlib.util.spec_from_file_location(name, origin, loader=self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source = open(module.__spec__.origin).read()
        for old, new in self.patches[module.__name__]:
            if source.count(old) != 1:
                raise SystemExit(f"{module.__spec__.origin}: expected {old!r} exactly once")
            source = source.replace(old, new)
        exec(compile(source, module.__spec__.origin, "exec"), module.__dict__)


def vgg19_features(divisor):
    """torchvision's VGG19 `features` layout (3x3 conv + ReLU, 2x2 max pools), widths / divisor."""
    layers, channels = [], 3
    for item in VGG_PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item // divisor, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = item // divisor
    return nn.Sequential(*layers)


def import_reference(root, size):
    if not os.path.isfile(os.path.join(root, "models", "smis_model.py")):
        raise SystemExit(f"no reference at {root} (set --reference or SMIS_REFERENCE; see the docstring)")
    sys.path.insert(0, root)
    sys.modules["cv2"] = types.ModuleType("cv2")
    sys.modules["dill"] = pickle
    torchvision = types.ModuleType("torchvision")
    torchvision.models = types.ModuleType("torchvision.models")
    torchvision.transforms = types.ModuleType("torchvision.transforms")

    class StubVGG19(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = vgg19_features(size["vgg_divisor"])

    def vgg19(pretrained=False):
        assert not pretrained, "the harness passes --vgg_path, so the reference never asks for downloaded weights"
        return StubVGG19()

    torchvision.models.vgg19 = vgg19
    for name in ("torchvision", "torchvision.models", "torchvision.transforms"):
        sys.modules[name] = getattr(torchvision, name.split(".")[1]) if "." in name else torchvision
    nn.Module.cuda = lambda self, *args, **kwargs: self
    adam = torch.optim.Adam

    def float_betas_adam(params, betas=(0.9, 0.999), **kwargs):
        return adam(params, betas=tuple(float(beta) for beta in betas), **kwargs)

    torch.optim.Adam = float_betas_adam
    patches = {}
    if size["hidden"] != 128:
        patches["models.networks.normalization"] = [
            ("if data_mode == 'deepfashion':\n            nhidden = 128",
             f"if data_mode == 'deepfashion':\n            nhidden = {size['hidden']}")]
    if size["encoder"] != 256:
        patches["models.networks.encoder"] = [("ndf = 256", f"ndf = {size['encoder']}")]
    sys.meta_path.insert(0, SourcePatcher(root, patches))


def reference_options(size, vgg_path, scratch, batch=BATCH, extra=()):
    """The reference's TrainOptions for scripts/deepfashion.sh's training command, on the CPU
    (`extra`: more of its options, e.g. `--no_vgg_loss` for Benchmarks/memory).

    The script's `--use_vae` is left out: the option takes a value (default True), so the
    script's bare flag would swallow the next argument."""
    from options.train_options import TrainOptions
    sys.argv = ["train.py", "--name", "deepfashion_smis", "--dataset_mode", "deepfashion", "--dataroot", scratch,
                "--no_instance", "--gpu_ids", "-1", "--ngf", str(size["ngf"]), "--ndf", str(size["ndf"]),
                "--batchSize", str(batch), "--niter", "60", "--niter_decay", "40", "--model", "smis",
                "--netE", "conv", "--netG", "deepfashion", "--vgg_path", vgg_path, "--checkpoints_dir", scratch,
                *extra]
    return TrainOptions().parse()


# MARK: - Inputs and weights

def load_batch(prepared, stems):
    from PIL import Image
    import numpy as np
    masks = os.path.join(prepared, "cihp_train_mask")
    labels, photos = [], []
    for stem in stems:
        if not os.path.isfile(os.path.join(masks, stem + ".png")):
            raise SystemExit(f"{masks}: no {stem}.png (run scripts/demo first, or pass --samples)")
        label = np.array(Image.open(os.path.join(masks, stem + ".png")))
        photo_name = next(name for name in os.listdir(os.path.join(prepared, "train")) if os.path.splitext(name)[0] == stem)
        photo = np.array(Image.open(os.path.join(prepared, "train", photo_name)).convert("RGB"))
        assert label.shape == photo.shape[:2] == (256, 256) and label.max() < CLASSES, (stem, label.shape, photo.shape)
        labels.append(torch.from_numpy(label.astype("uint8")))
        photos.append(torch.from_numpy(photo.astype("uint8")))
    print("batch:", ", ".join(stems))
    return torch.stack(labels), torch.stack(photos)


def reference_data(labels, image_bytes):
    """The dict the reference's DeepfashionDataset yields, for a fixed batch (no flip)."""
    image = image_bytes.permute(0, 3, 1, 2).to(torch.float32).div(255)   # ToTensor
    image = image.sub(0.5).div(0.5)                                     # Normalize((0.5,)*3, (0.5,)*3)
    return {"label": labels.unsqueeze(1).to(torch.float32), "instance": 0, "image": image, "path": ["fixture"] * BATCH}


def make_vgg(divisor):
    features = vgg19_features(divisor)
    with torch.no_grad():
        for layer in features:
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                layer.bias.normal_(0, 0.05)
    return {f"features.{key}": value.contiguous() for key, value in features.state_dict().items()}


# MARK: - Recording

class Recorder:
    """Keeps what the reference's networks return and every eps its reparameterize draws."""

    def __init__(self, model):
        self.calls = {"E": [], "G": [], "D": [], "eps": []}
        for key, net in (("E", model.netE), ("G", model.netG), ("D", model.netD)):
            net.register_forward_hook(lambda module, inputs, output, key=key: self.calls[key].append(output))
        original = torch.randn_like

        def recording_randn_like(*args, **kwargs):
            value = original(*args, **kwargs)
            self.calls["eps"].append(value.detach().clone())
            return value

        torch.randn_like = recording_randn_like

    def take(self):
        calls = self.calls
        self.calls = {key: [] for key in calls}
        return calls


def half_entries(key, tensor, out):
    tensor = tensor.detach()
    scale = tensor.abs().max().item()
    half = (tensor / scale if scale > 0 else tensor).to(torch.float16).contiguous()
    out[key] = half.view(torch.uint8).reshape(-1)
    out[f"{key}.scale"] = torch.tensor(scale, dtype=torch.float32)


def gradient_entries(prefix, name, gradient, out):
    half_entries(f"grad.{prefix}.{name}", gradient, out)


def ill_conditioned_entries(prefix, nets, out):
    """Adam's first step (beta1 = 0) moves every weight by about lr * sign(g) whatever |g| is, so
    where g is within float32 rounding of 0 its direction is an accident of summation order.
    For those elements (0 < |g| < ILL_CONDITIONED * the tensor's max |g|: an exact 0, as for a
    class absent from the batch, is 0 on both sides and does not move; all of a tensor whose
    gradient is zero by structure, max |g| < 1e-6 * the network's largest), store the indices
    and the reference's updated values: the Swift test gives them these values before the D
    step, which then starts from the reference's weights."""
    for net, name in nets:
        largest = max(p.grad.abs().max().item() for p in net.parameters())
        for key, parameter in net.named_parameters():
            magnitude = parameter.grad.abs().reshape(-1)
            if magnitude.max().item() < 1e-6 * largest:
                index = torch.arange(magnitude.numel())
            else:
                index = ((magnitude > 0) & (magnitude < ILL_CONDITIONED * magnitude.max())).nonzero().reshape(-1)
            if index.numel() > 0:
                out[f"{prefix}.{name}.{key}.index"] = index.to(torch.int64)
                out[f"{prefix}.{name}.{key}.value"] = parameter.detach().reshape(-1)[index].clone()


def summary(tensor):
    t = tensor.detach().to(torch.float64)
    return torch.tensor([t.sum().item(), t.abs().sum().item(), t.abs().max().item()], dtype=torch.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="DeepFashion size, written into .cache/reference-full")
    parser.add_argument("--reference", default=os.environ.get("SMIS_REFERENCE", os.path.join(ROOT, ".cache", "SMIS")))
    parser.add_argument("--prepared", default=os.path.join(ROOT, "out", "prepared"))
    parser.add_argument("--samples", default=",".join(SAMPLES), help="the batch: comma-separated stems of out/prepared's training set")
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    size = SIZES["full" if arguments.full else "reduced"]
    out_dir = size["out"]
    os.makedirs(out_dir, exist_ok=True)
    scratch = os.path.join(ROOT, ".cache", "reference-scratch")
    os.makedirs(scratch, exist_ok=True)
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(20261207)

    import_reference(os.path.abspath(arguments.reference), size)
    vgg_state = make_vgg(size["vgg_divisor"])
    vgg_pth = os.path.join(scratch, "vgg19.pth")
    torch.save({key: value for key, value in vgg_state.items()}, vgg_pth)
    save_file(vgg_state, os.path.join(out_dir, "vgg.safetensors"))
    opt = reference_options(size, vgg_pth, scratch)
    from trainers.pix2pix_trainer import Pix2PixTrainer
    import builtins
    quiet_print, builtins.print = builtins.print, lambda *args, **kwargs: None   # it prints whole networks
    trainer = Pix2PixTrainer(opt)
    builtins.print = quiet_print
    model = trainer.pix2pix_model
    G, E, D = model.netG, model.netE, model.netD

    labels, image_bytes = load_batch(arguments.prepared, arguments.samples.split(","))
    assert labels.shape[0] == BATCH, f"--samples must name {BATCH} samples"
    data = reference_data(labels, image_bytes)
    seg, image = model.preprocess_input(dict(data))
    latent = (BATCH, CLASSES * 8, 4, 4)

    for net in (G, E, D):
        randomize(net)
    with torch.no_grad():
        G.conv_img.weight.mul_(CONV_IMG_SCALE)
        E.fc_var.weight.mul_(0.1)
        for _ in range(size["warmup"]):
            G(seg, z=torch.randn(latent))
    initial = {}
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        initial[name] = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
        save_file(initial[name], os.path.join(out_dir, f"{name}.safetensors"))

    out = {"input.labels": labels.contiguous(), "input.image_bytes": image_bytes.contiguous()}
    out["input.z"] = torch.randn(latent)
    G.eval()
    with torch.no_grad():
        eval_fake = G(seg, z=out["input.z"])
    half_entries("eval.fake", eval_fake, out)
    G.train()

    recorder = Recorder(model)
    parameters_before = {name: {k: p.detach().clone() for k, p in net.named_parameters()}
                         for net, name in ((G, "G"), (E, "E"), (D, "D"))}

    # The iteration: the reference trainer's G step, then its D step.
    trainer.run_generator_one_step(dict(data))
    calls = recorder.take()
    assert len(calls["eps"]) == 1 and len(calls["E"]) == 1 and len(calls["G"]) == 1 and len(calls["D"]) == 1
    out["gstep.eps"] = calls["eps"][0]
    out["gstep.mu"], out["gstep.logvar"] = calls["E"][0]
    out["gstep.fake"] = calls["G"][0]
    for scale, outputs in enumerate(calls["D"][0]):
        out[f"gstep.pred_{scale}"] = outputs[-1]
    for key, value in trainer.g_losses.items():
        out[f"gstep.{key}"] = value.reshape(())
    out["gstep.total"] = sum(trainer.g_losses.values()).mean()
    for net, name in ((G, "G"), (E, "E")):
        for key, parameter in net.named_parameters():
            gradient_entries(name, key, parameter.grad, out)
    ill_conditioned_entries("patch", ((G, "G"), (E, "E")), out)

    trainer.run_discriminator_one_step(dict(data))
    calls = recorder.take()
    assert len(calls["eps"]) == 1 and len(calls["E"]) == 1 and len(calls["G"]) == 1 and len(calls["D"]) == 1
    out["dstep.eps"] = calls["eps"][0]
    out["dstep.mu"], out["dstep.logvar"] = calls["E"][0]
    for scale, outputs in enumerate(calls["D"][0]):
        out[f"dstep.pred_{scale}"] = outputs[-1]
    for key, value in trainer.d_losses.items():
        out[f"dstep.{key}"] = value.reshape(())
    for key, parameter in D.named_parameters():
        gradient_entries("D", key, parameter.grad, out)
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        for key, buffer in net.named_buffers():
            out[f"after.{name}.{key}"] = buffer.detach().clone()
        for key, parameter in net.named_parameters():
            delta = (parameter.detach().to(torch.float64) - parameters_before[name][key].to(torch.float64))
            out[f"update.{name}.{key}"] = torch.tensor([delta.sum().item(), delta.abs().sum().item()], dtype=torch.float32)

    # The trainer scenario: same weights, logvar forced low, fresh optimisers.
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        net.load_state_dict(initial[name])
    with torch.no_grad():
        E.fc_var.bias.sub_(LOW_LOGVAR_SHIFT)
    trainer.optimizer_G, trainer.optimizer_D = model.create_optimizers(opt)
    start = {name: {k: p.detach().clone() for k, p in net.named_parameters()} for net, name in ((G, "G"), (E, "E"), (D, "D"))}
    trainer.run_generator_one_step(dict(data))
    for net, name in ((G, "G"), (E, "E")):
        for key, parameter in net.named_parameters():
            out[f"trainer.grad.{name}.{key}"] = summary(parameter.grad)
    ill_conditioned_entries("trainer.patch", ((G, "G"), (E, "E")), out)
    trainer.run_discriminator_one_step(dict(data))
    for key, parameter in D.named_parameters():
        out[f"trainer.grad.D.{key}"] = summary(parameter.grad)
    for key, value in {**trainer.g_losses, **trainer.d_losses}.items():
        out[f"trainer.{key}"] = value.reshape(())
    for net, name in ((G, "G"), (E, "E"), (D, "D")):
        for key, parameter in net.named_parameters():
            delta = parameter.detach().to(torch.float64) - start[name][key].to(torch.float64)
            out[f"trainer.update.{name}.{key}"] = torch.tensor([delta.sum().item(), delta.abs().sum().item()], dtype=torch.float32)
    recorder.take()

    out = {k: v.detach().contiguous() for k, v in out.items()}
    metadata = {key: str(size[key]) for key in ("ngf", "ndf", "hidden", "encoder", "vgg_divisor")}
    save_file(out, os.path.join(out_dir, "reference.safetensors"), metadata=metadata)

    def saturated(t):
        return (t.abs() > 0.99).float().mean().item()
    print(f"eval fake: std {eval_fake.std():.3f}, saturated {saturated(eval_fake):.3f}; "
          f"train fake: std {out['gstep.fake'].std():.3f}, saturated {saturated(out['gstep.fake']):.3f}")
    print(f"logvar: mean {out['gstep.logvar'].mean():.3f}, max {out['gstep.logvar'].max():.3f}; mu std {out['gstep.mu'].std():.3f}")
    print("G step: " + ", ".join(f"{k} {out[f'gstep.{k}'].item():.5g}" for k in trainer.g_losses))
    print("D step: " + ", ".join(f"{k} {out[f'dstep.{k}'].item():.5g}" for k in trainer.d_losses))
    print("trainer: " + ", ".join(f"{k} {out[f'trainer.{k}'].item():.5g}" for k in list(trainer.g_losses) + list(trainer.d_losses)))
    total = 0
    for name in sorted(os.listdir(out_dir)):
        if name.endswith(".safetensors"):
            total += os.path.getsize(os.path.join(out_dir, name))
            print(f"{name}: {os.path.getsize(os.path.join(out_dir, name))} bytes")
    print(f"total {total} bytes in {out_dir}")


if __name__ == "__main__":
    main()
