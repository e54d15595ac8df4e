"""Pack the generated fixture arrays small: compressed .npz, first N samples kept.

The training and attack scripts write their outputs as .npy stacks. This
script turns each one listed below into ``NAME.npz`` (np.savez_compressed,
one array ``samples``, the values unchanged) keeping the first N samples,
and deletes the .npy, so that the fixtures stay a few MB in all. Run it
after the scripts that make the fixtures.

    python scripts/pack_fixtures.py [mnist] [bach] [speech]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# fixture .npy (relative to fixtures/) -> samples kept
KEEP = {
    "mnist/lsgan.npy": 256,
    "mnist/wgan-gp.npy": 256,
    "mnist/mlp-gan.npy": 256,
    "mnist/fgsm-0.05.npy": 256,
    "mnist/fgsm-0.1.npy": 256,
    "mnist/fgsm-0.2.npy": 256,
    "mnist/fgsm-0.3.npy": 256,
    "mnist/pgd-0.1.npy": 256,
    "bach/wgan-gp.npy": 64,
    "bach/bernoulli.npy": 96,
    "speech/wgan-gp.npy": 64,
    "speech/exponential.npy": 32,
}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="Fixture folders to pack (mnist, bach, speech); default: all.")
    arguments = parser.parse_args()
    for name, keep in KEEP.items():
        if arguments.folders and name.split("/")[0] not in arguments.folders:
            continue
        source = ROOT / "fixtures" / name
        if not source.exists():
            print(f"skipped {source}: not found")
            continue
        samples = np.load(source, allow_pickle=False)[:keep]
        target = source.with_suffix(".npz")
        np.savez_compressed(target, samples=samples)
        source.unlink()
        print(f"{target}: {samples.shape} {samples.dtype}, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
