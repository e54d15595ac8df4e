"""Train a WGAN-GP on real mel-spectrogram patches and write the speech GAN fixtures.

Training data: the training-role files of ``fixtures/speech/split.json``, read
from ``build/speech/root/``. scripts/build_speech_dataset.py makes both. Each
file becomes a compressed mel spectrogram scaled to [0, 1] by the split's
``mel_settings``, cut into 64-band x 64-frame patches with a hop of 32 frames.
Files shorter than one patch and patches whose mean scaled value is
below 0.05 (mostly silence) are left out. The patches are mapped to [-1, 1]
for training.

Model: an improved Wasserstein GAN (WGAN-GP: gradient penalty weight 10,
5 critic steps per generator step, Adam 1e-4 with betas 0.5/0.9, batch 64).
The generator is DCGAN-style, z (100) -> 256x4x4 -> transposed convolutions
with BatchNorm and ReLU up to 1x64x64 with a tanh output. The critic is
strided convolutions with LeakyReLU(0.2) and no normalization, because
BatchNorm would couple the samples whose gradients the penalty constrains.

Outputs:

- ``fixtures/speech/wgan-gp.npy``: float32 (96, 64, 64), the raw tanh output
  in [-1, 1] of the generator in eval mode for a fixed-seed batch of latent
  vectors. Rows are mel bands in ascending order (row 0 is the lowest band) and
  columns are frames, as in ``gandetect.audio.compressed_mel``.
- ``fixtures/speech/exponential.npy``: float32 (64, 64, 64), i.i.d.
  Exponential noise in the scaled [0, 1] domain whose scale is the mean scaled
  value of the training patches, clipped to [0, 1], seed 0.
- ``build/speech/wgan-generator.pt`` (generator state_dict),
  ``build/speech/wgan-grid.png`` (16 generated patches, 4x4) and
  ``build/speech/real-grid.png`` (16 training patches, 4x4). The grids show the
  lowest band at the bottom.

Run from the repository root:

    /work/venv-train/bin/python scripts/train_speech_wgan.py

Training takes about 13 minutes of CPU time on one thread, and reading the
patches about one more minute. On a 2-core CPU shared with other jobs the run
took 24 minutes wall time (see fixtures/speech/README.md). torch and
the Debian packages behind the recordings are dev-time dependencies only, for
rebuilding fixtures.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from gandetect.audio import MelSettings, compressed_mel, read_audio, scale_compressed

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build" / "speech"
ROOT_DIR = BUILD_DIR / "root"
FIXTURES_DIR = REPO_ROOT / "fixtures" / "speech"
SPLIT_PATH = FIXTURES_DIR / "split.json"

PATCH_HOP = 32
MIN_PATCH_MEAN = 0.05

LATENT_DIM = 100
BATCH_SIZE = 64
CRITIC_STEPS = 5
GP_WEIGHT = 10.0
LEARNING_RATE = 1e-4
ADAM_BETAS = (0.5, 0.9)
# Chosen to keep training under 15 minutes of CPU time: 1000 steps took 787 s
# on one thread of a 2-core x86 machine.
GENERATOR_STEPS = 1000
LOG_EVERY = 50

TRAIN_SEED = 3001
# The fixture latent batch has its own seed so that it does not depend on how
# many random numbers training drew.
SAMPLE_SEED = 3002
GRID_SEED = 3003
WGAN_COUNT = 96
EXPONENTIAL_COUNT = 64
EXPONENTIAL_SEED = 0


class Generator(nn.Module):
    """DCGAN generator: z (100) -> 256x4x4 -> 128x8x8 -> 64x16x16 -> 32x32x32 -> 1x64x64 with tanh."""

    def __init__(self):
        super().__init__()
        self.project = nn.Sequential(
            nn.Linear(LATENT_DIM, 256 * 4 * 4, bias=False),
            nn.BatchNorm1d(256 * 4 * 4),
            nn.ReLU(),
        )
        layers = []
        for in_channels, out_channels in [(256, 128), (128, 64), (64, 32)]:
            layers += [
                nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(32, 1, kernel_size=4, stride=2, padding=1), nn.Tanh()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, z):
        return self.upsample(self.project(z).view(-1, 256, 4, 4))


class Critic(nn.Module):
    """WGAN critic: 1x64x64 -> 16x32x32 -> 32x16x16 -> 64x8x8 -> 128x4x4 -> one unbounded score."""

    def __init__(self):
        super().__init__()
        layers = []
        for in_channels, out_channels in [(1, 16), (16, 32), (32, 64), (64, 128)]:
            layers += [
                nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            ]
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(128 * 4 * 4, 1)

    def forward(self, x):
        return self.score(self.features(x).flatten(1))


def init_dcgan_weights(module):
    """Draw convolution and linear weights from N(0, 0.02) and BatchNorm scales from N(1, 0.02), as DCGAN does."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def load_training_patches():
    """Cut the training files into scaled patches and drop the mostly silent ones.

    Returns (patches, settings): patches is float32 (n, 64, 64) in [0, 1].
    """
    split = json.loads(SPLIT_PATH.read_text(encoding="utf-8"))
    settings = MelSettings(**split["mel_settings"])
    speakers = split["speakers"]
    patch_frames = settings.patch_frames

    kept_patches = []
    short_files = 0
    window_count = 0
    train_files = [entry for entry in split["files"] if entry["role"] == "train"]
    for entry in train_files:
        path = ROOT_DIR / entry["speaker"] / speakers[entry["speaker"]]["voice_folder"] / entry["path"]
        if not path.exists():
            raise SystemExit(f"{path} not found; run scripts/build_speech_dataset.py first")
        samples, _ = read_audio(path, settings.sample_rate)
        scaled = scale_compressed(compressed_mel(samples, settings), settings)
        if scaled.shape[1] < patch_frames:
            short_files += 1
            continue
        windows = np.lib.stride_tricks.sliding_window_view(scaled, patch_frames, axis=1)[:, ::PATCH_HOP]
        windows = windows.transpose(1, 0, 2)
        window_count += len(windows)
        kept_patches.extend(window for window in windows if window.mean() >= MIN_PATCH_MEAN)

    patches = np.stack(kept_patches).astype(np.float32)
    print(
        f"patches: {len(train_files)} training files, {short_files} shorter than {patch_frames} frames left out; "
        f"{window_count} windows, {window_count - len(patches)} with mean below {MIN_PATCH_MEAN} dropped, "
        f"{len(patches)} kept"
    )
    return patches, settings


def gradient_penalty(critic, real, fake):
    """Return the mean of (||grad critic(x)|| - 1)^2 over points x between real and fake samples."""
    mix = torch.rand(real.shape[0], 1, 1, 1)
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(between).sum(), between, create_graph=True)
    return ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()


def train(patches, generator_steps):
    """Train the WGAN-GP on patches mapped to [-1, 1] and return the generator in eval mode."""
    torch.manual_seed(TRAIN_SEED)
    rng = np.random.default_rng(TRAIN_SEED)
    data = torch.from_numpy(patches * 2 - 1).unsqueeze(1)

    generator = Generator()
    critic = Critic()
    generator.apply(init_dcgan_weights)
    critic.apply(init_dcgan_weights)
    generator_optimizer = torch.optim.Adam(generator.parameters(), lr=LEARNING_RATE, betas=ADAM_BETAS)
    critic_optimizer = torch.optim.Adam(critic.parameters(), lr=LEARNING_RATE, betas=ADAM_BETAS)

    started = time.perf_counter()
    cpu_started = time.process_time()
    for step in range(1, generator_steps + 1):
        for _ in range(CRITIC_STEPS):
            real = data[rng.integers(0, len(data), BATCH_SIZE)]
            with torch.no_grad():
                fake = generator(torch.randn(BATCH_SIZE, LATENT_DIM))
            distance = critic(real).mean() - critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)
            critic_loss = -distance + GP_WEIGHT * penalty
            critic_optimizer.zero_grad()
            critic_loss.backward()
            critic_optimizer.step()

        generator_loss = -critic(generator(torch.randn(BATCH_SIZE, LATENT_DIM))).mean()
        generator_optimizer.zero_grad()
        generator_loss.backward()
        generator_optimizer.step()

        if step % LOG_EVERY == 0 or step == generator_steps:
            print(
                f"step {step}/{generator_steps}: critic loss {critic_loss.item():.4f}, "
                f"Wasserstein estimate {distance.item():.4f}, gradient penalty {penalty.item():.4f}, "
                f"generator loss {generator_loss.item():.4f}, {time.perf_counter() - started:.0f} s wall, "
                f"{time.process_time() - cpu_started:.0f} s CPU",
                flush=True,
            )
    print(
        f"training: {generator_steps} generator steps in {time.perf_counter() - started:.0f} s wall, "
        f"{time.process_time() - cpu_started:.0f} s CPU"
    )
    return generator.eval()


def generate(generator, count, seed):
    """Return count generator outputs (raw tanh values) as float32 (count, 64, 64) for z drawn with seed."""
    latent = torch.randn(count, LATENT_DIM, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return generator(latent).squeeze(1).numpy().astype(np.float32)


def save_grid(patches, path):
    """Save 16 patches with values in [0, 1] as a 4x4 grayscale grid, lowest mel band at the bottom."""
    size = patches.shape[1]
    gap = 2
    grid = np.full((4 * size + 3 * gap, 4 * size + 3 * gap), 255, dtype=np.uint8)
    for index, patch in enumerate(patches[:16]):
        row, column = divmod(index, 4)
        top = row * (size + gap)
        left = column * (size + gap)
        grid[top : top + size, left : left + size] = np.round(np.flipud(patch) * 255).astype(np.uint8)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(path)


def describe(name, values):
    """Print the share of values below 0.01 and above 0.99 and the mean, for values in [0, 1]."""
    print(
        f"{name}: share below 0.01 {np.mean(values < 0.01):.4f}, share above 0.99 {np.mean(values > 0.99):.4f}, "
        f"mean {values.mean():.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator-steps",
        type=int,
        default=GENERATOR_STEPS,
        help=f"generator updates to train for, each after {CRITIC_STEPS} critic updates (default {GENERATOR_STEPS})",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    patches, _ = load_training_patches()
    patch_mean = float(patches.mean())
    grid_rng = np.random.default_rng(GRID_SEED)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    save_grid(patches[grid_rng.choice(len(patches), 16, replace=False)], BUILD_DIR / "real-grid.png")

    generator = train(patches, args.generator_steps)
    torch.save(generator.state_dict(), BUILD_DIR / "wgan-generator.pt")

    samples = generate(generator, WGAN_COUNT, SAMPLE_SEED)
    np.save(FIXTURES_DIR / "wgan-gp.npy", samples)
    save_grid((samples[:16] + 1) / 2, BUILD_DIR / "wgan-grid.png")

    exponential_rng = np.random.default_rng(EXPONENTIAL_SEED)
    exponential = exponential_rng.exponential(scale=patch_mean, size=(EXPONENTIAL_COUNT, 64, 64))
    np.save(FIXTURES_DIR / "exponential.npy", np.clip(exponential, 0.0, 1.0).astype(np.float32))

    print(f"wrote wgan-gp.npy {samples.shape}, range [{samples.min():.4f}, {samples.max():.4f}]")
    print(f"wrote exponential.npy, scale {patch_mean:.6f} (mean scaled value of the training patches)")
    describe("wgan-gp mapped to [0, 1]", (samples + 1) / 2)
    describe("real training patches", patches)


if __name__ == "__main__":
    main()
