#!/usr/bin/env python3
"""Peak memory and time of the reference's own training iterations (Seanseattle/SMIS on
PyTorch, CPU), for scripts/bench-memory to print beside `smis train`'s.

Runs the reference's Pix2PixTrainer (run_generator_one_step then run_discriminator_one_step)
at the DeepFashion size (ngf 160, ndf 64), without the VGG loss (as `smis train` without
--vgg-weights), on a random batch, in float32 or under torch.autocast("cpu", bfloat16),
PyTorch's fastest CPU path. The reference is imported through make_smis_reference.py's
harness (nothing of it is copied). Prints one JSON object: peak resident MiB of the process
(ru_maxrss, as /usr/bin/time reports it for ours) and seconds per iteration after the first.

    python3 Benchmarks/memory/reference_training.py --batch 4 --precision bf16
"""
import argparse
import contextlib
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "GroupDNetTests", "Fixtures"))

import torch  # noqa: E402
from make_smis_reference import SIZES, import_reference, reference_options  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", default=os.environ.get("SMIS_REFERENCE", os.path.join(ROOT, ".cache", "SMIS")))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(1)
    size = SIZES["full"]
    scratch = os.path.join(ROOT, ".cache", "reference-scratch")
    os.makedirs(scratch, exist_ok=True)
    import_reference(os.path.abspath(arguments.reference), size)
    opt = reference_options(size, "unused.pth", scratch, batch=arguments.batch, extra=["--no_vgg_loss"])
    from trainers.pix2pix_trainer import Pix2PixTrainer
    import builtins
    quiet_print, builtins.print = builtins.print, lambda *args, **kwargs: None   # it prints whole networks
    trainer = Pix2PixTrainer(opt)
    builtins.print = quiet_print

    batch = arguments.batch
    data = {"label": torch.randint(0, 8, (batch, 1, 256, 256)).to(torch.float32), "instance": 0,
            "image": torch.rand(batch, 3, 256, 256) * 2 - 1, "path": ["random"] * batch}
    autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if arguments.precision == "bf16"
                else contextlib.nullcontext())
    times = []
    for _ in range(arguments.iterations):
        start = time.perf_counter()
        with autocast:
            trainer.run_generator_one_step(dict(data))
            trainer.run_discriminator_one_step(dict(data))
        times.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    later = times[1:] or times
    print(json.dumps({"batch": batch, "precision": arguments.precision, "peak_mib": round(peak_mib),
                      "seconds_per_iteration": round(sum(later) / len(later), 2)}))


if __name__ == "__main__":
    main()
