#!/usr/bin/env python3
"""Times the reference's own GroupDNet (Seanseattle/SMIS) on PyTorch's CPU path, for
bench-groupdnet to print beside its own figures from the same run.

    python3 Benchmarks/GroupDNet/pytorch_groupdnet.py --reference PATH [--threads 2] [--repeats 2]
        [--precision float32|bf16] [--batch 1]

The network is the reference's, built by its own option parser exactly as
Tests/GroupDNetTests/Fixtures/make_smis_reference.py builds it (its import harness is reused:
stubs for cv2/torchvision, CPU-only Adam betas), at the DeepFashion size (ngf 160, ndf 64),
without the VGG loss (--no_vgg_loss), with the reference's own initialisation. Input: a label
map of eight horizontal bands (as bench-groupdnet's) and a random photo.

Timed: the generator forward in eval mode under torch.no_grad(); one training iteration, the
reference trainer's run_generator_one_step then run_discriminator_one_step. With --precision
bf16 both run under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's fastest CPU path
(oneDNN's bfloat16 convolutions where the CPU has AVX512-BF16). One warm-up of each first.

Prints one line of JSON: {"precision", "threads", "forward": [s...], "iteration": [s...]}.
Exits with status 3 and a sentence on stderr when torch or the reference is missing.
"""
import argparse
import contextlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "GroupDNetTests", "Fixtures"))
CLASSES = 8
SIZE = 256


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--precision", choices=["float32", "bf16"], default="float32")
    arguments = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed (pip install torch==2.13.0+cpu)", file=sys.stderr)
        sys.exit(3)
    if not os.path.isfile(os.path.join(arguments.reference, "models", "smis_model.py")):
        print(f"no copy of the reference at {arguments.reference}", file=sys.stderr)
        sys.exit(3)
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(1)
    sys.path.insert(0, FIXTURES)
    import make_smis_reference as harness

    size = dict(harness.SIZES["full"])
    harness.import_reference(os.path.abspath(arguments.reference), size)
    scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"smis-bench-{os.getpid()}")
    os.makedirs(scratch, exist_ok=True)
    opt = harness.reference_options(size, "unused.pth", scratch, batch=arguments.batch, extra=["--no_vgg_loss"])
    from trainers.pix2pix_trainer import Pix2PixTrainer
    import builtins
    quiet_print, builtins.print = builtins.print, lambda *args, **kwargs: None   # it prints whole networks
    trainer = Pix2PixTrainer(opt)
    builtins.print = quiet_print
    model = trainer.pix2pix_model

    rows = torch.arange(SIZE).div(SIZE / CLASSES, rounding_mode="floor").to(torch.uint8)
    labels = rows.view(1, SIZE, 1).expand(arguments.batch, SIZE, SIZE).contiguous()
    photos = torch.randint(0, 256, (arguments.batch, SIZE, SIZE, 3), dtype=torch.uint8)
    data = harness.reference_data(labels, photos)
    seg, _ = model.preprocess_input(dict(data))
    z = torch.randn(arguments.batch, CLASSES * 8, 4, 4)

    def precision():
        if arguments.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def forward():
        model.netG.eval()
        with torch.no_grad(), precision():
            model.netG(seg, z=z)
        model.netG.train()

    def iteration():
        with precision():
            trainer.run_generator_one_step(dict(data))
            trainer.run_discriminator_one_step(dict(data))

    def timed(body):
        body()   # warm-up: oneDNN makes its kernels on first use
        times = []
        for _ in range(arguments.repeats):
            start = time.perf_counter()
            body()
            times.append(time.perf_counter() - start)
        return times

    result = {"precision": arguments.precision, "threads": torch.get_num_threads(),
              "forward": timed(forward), "iteration": timed(iteration)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
