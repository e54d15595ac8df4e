"""Train a small WGAN-GP on Bach chorale piano-roll patches and write its sample fixtures.

Input: the training MIDI files that ``scripts/build_bach_dataset.py`` writes to
``build/bach/train/``. Each is read with ``gandetect.pianoroll.read_midi`` (64
pitches, MIDI 24..87, on the file's 16th-note grid) and cut into 64x64 patches
(64 pitches x 64 steps) every 16 steps. Patches without a note are left out, and
so are the last steps of a chorale that do not fill a whole patch.

Model: DCGAN-style improved WGAN (gradient penalty, lambda 10, 5 critic steps per
generator step, Adam 1e-4 with betas 0.5/0.9). The generator maps z (100) through
a linear layer to 256x4x4 and four transposed convolutions (kernel 4, stride 2,
padding 1, BatchNorm and ReLU between them) to 1x64x64, with a sigmoid output.
The critic has four strided convolutions with LeakyReLU(0.2) and LayerNorm, no
BatchNorm, and a linear score.

Outputs:

- ``fixtures/bach/wgan-gp.npy``: float32 (96, 64, 64), the sigmoid output of the
  generator in eval mode for a fixed-seed batch of z. Rows are MIDI pitches 24..87
  ascending, columns are 16th-note steps.
- ``fixtures/bach/wgan-gp-midi/NNNN.mid``: patch NNNN of the .npy thresholded at
  0.5, as MIDI at 120 BPM (one step = 0.125 s, pitch = row + 24, velocity 127,
  consecutive cells of one pitch above 0.5 merged into one note). A patch with no
  cell above 0.5 gets no file, so the numbers can have gaps.
- ``fixtures/bach/bernoulli.npy``: bool (96, 64, 64), independent Bernoulli cells
  with p = the mean value of the training patches, from numpy default_rng(0).
- ``build/bach/wgan-generator.pt`` (generator state_dict),
  ``build/bach/wgan-grid.png`` (the first 16 samples) and
  ``build/bach/real-grid.png`` (16 training patches for comparison), both with
  high pitches at the top.

Run from the repository root after the dataset script:

    python scripts/train_bach_wgan.py

Training took 677 s of CPU time on one thread (17 min wall for the whole script
on a 2-core machine shared with other jobs). torch, pretty_midi and music21 are dev-time
dependencies only, for rebuilding fixtures: ``pip install torch==2.13.0
pretty_midi`` and ``pip install --no-deps -e .``.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pretty_midi
import torch
from PIL import Image
from torch import nn

from gandetect.pianoroll import PianoRollGrid, read_midi

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build" / "bach"
TRAIN_DIR = BUILD_DIR / "train"
FIXTURES_DIR = REPO_ROOT / "fixtures" / "bach"
MIDI_DIR = FIXTURES_DIR / "wgan-gp-midi"

GRID = PianoRollGrid()
PATCH_STEPS = 64
PATCH_HOP = 16

LATENT_DIM = 100
BATCH_SIZE = 32
GENERATOR_STEPS = 2000
CRITIC_STEPS = 5
GP_WEIGHT = 10.0
TRAIN_SEED = 1003
# The fixture batch of z has its own seed, so it does not depend on how many
# random numbers training drew.
SAMPLE_SEED = 2003
BERNOULLI_SEED = 0
NUM_SAMPLES = 96
GRID_SAMPLES = 16

MIDI_TEMPO_BPM = 120.0
MIDI_STEP_SECONDS = 0.125  # a 16th note at 120 BPM
MIDI_VELOCITY = 127
NOTE_THRESHOLD = 0.5


class Generator(nn.Module):
    """DCGAN generator: z (100) -> 256x4x4 -> 64x8x8 -> 32x16x16 -> 16x32x32 -> 1x64x64, sigmoid output."""

    def __init__(self):
        super().__init__()
        self.project = nn.Sequential(
            nn.Linear(LATENT_DIM, 256 * 4 * 4, bias=False),
            nn.BatchNorm1d(256 * 4 * 4),
            nn.ReLU(),
        )
        layers = []
        for in_channels, out_channels in ((256, 64), (64, 32), (32, 16)):
            layers += [
                nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            ]
        layers += [nn.ConvTranspose2d(16, 1, kernel_size=4, stride=2, padding=1), nn.Sigmoid()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, z):
        return self.upsample(self.project(z).view(-1, 256, 4, 4))


class Critic(nn.Module):
    """WGAN critic: 1x64x64 -> 16x32x32 -> 32x16x16 -> 64x8x8 -> 128x4x4 -> one unbounded score.

    LayerNorm follows every convolution but the first. BatchNorm would mix the
    samples of a batch, which breaks the per-sample gradient penalty.
    """

    def __init__(self):
        super().__init__()
        layers = [nn.Conv2d(1, 16, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        size = 32
        for in_channels, out_channels in ((16, 32), (32, 64), (64, 128)):
            size //= 2
            layers += [
                nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1),
                nn.LayerNorm([out_channels, size, size]),
                nn.LeakyReLU(0.2),
            ]
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(128 * 4 * 4, 1)

    def forward(self, rolls):
        return self.score(self.features(rolls).flatten(1)).squeeze(1)


def init_weights(module):
    """Draw conv and linear weights from N(0, 0.02) and zero the biases, as in DCGAN."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def load_patches(train_dir):
    """Return the training patches as float32 (n, 64, 64) with values in {0, 1}.

    Raises FileNotFoundError if ``train_dir`` has no MIDI files, because the
    dataset script has not been run.
    """
    paths = sorted(train_dir.glob("*.mid"))
    if not paths:
        raise FileNotFoundError(f"no MIDI files found in {train_dir}: run scripts/build_bach_dataset.py first")
    patches = []
    for path in paths:
        roll, _ = read_midi(path, GRID)
        for start in range(0, roll.shape[1] - PATCH_STEPS + 1, PATCH_HOP):
            patch = roll[:, start : start + PATCH_STEPS]
            if patch.any():
                patches.append(patch)
    print(f"read {len(paths)} training chorales into {len(patches)} patches of {GRID.pitch_count}x{PATCH_STEPS}")
    return np.stack(patches).astype(np.float32)


def gradient_penalty(critic, real, fake):
    """Return mean((||grad critic(x_hat)||_2 - 1)^2) at random points x_hat between real and fake patches."""
    mix = torch.rand(real.size(0), 1, 1, 1)
    interpolated = (mix * real + (1.0 - mix) * fake).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(interpolated).sum(), interpolated, create_graph=True)
    return ((gradients.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def iterate_batches(real_patches):
    """Yield batches of real patches forever, reshuffling after each pass."""
    num_batches = len(real_patches) // BATCH_SIZE
    while True:
        order = torch.randperm(len(real_patches))
        for batch in range(num_batches):
            yield real_patches[order[batch * BATCH_SIZE : (batch + 1) * BATCH_SIZE]]


def train_wgan_gp(real_patches, generator_steps):
    """Train the WGAN-GP and return the generator and the last reported loss means.

    Losses are printed every 100 generator steps as means over those steps. The
    critic steps each draw a fresh real batch.
    """
    generator = Generator()
    critic = Critic()
    generator.apply(init_weights)
    critic.apply(init_weights)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    optimizer_c = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))

    batches = iterate_batches(real_patches)
    report_every = 100
    losses = {}
    distance_sum = penalty_sum = loss_g_sum = 0.0
    started = time.process_time()
    for step in range(1, generator_steps + 1):
        for _ in range(CRITIC_STEPS):
            real = next(batches)
            with torch.no_grad():
                fake = generator(torch.randn(BATCH_SIZE, LATENT_DIM))
            distance = critic(real).mean() - critic(fake).mean()
            penalty = gradient_penalty(critic, real, fake)
            loss_c = -distance + GP_WEIGHT * penalty
            optimizer_c.zero_grad()
            loss_c.backward()
            optimizer_c.step()
            distance_sum += distance.item() / CRITIC_STEPS
            penalty_sum += penalty.item() / CRITIC_STEPS

        loss_g = -critic(generator(torch.randn(BATCH_SIZE, LATENT_DIM))).mean()
        optimizer_g.zero_grad()
        loss_g.backward()
        optimizer_g.step()
        loss_g_sum += loss_g.item()

        if step % report_every == 0:
            losses = {
                "wasserstein_estimate": distance_sum / report_every,
                "gradient_penalty": penalty_sum / report_every,
                "loss_g": loss_g_sum / report_every,
            }
            print(
                f"step {step}/{generator_steps}: wasserstein estimate {losses['wasserstein_estimate']:.4f} "
                f"penalty {losses['gradient_penalty']:.4f} loss_g {losses['loss_g']:.4f} "
                f"({time.process_time() - started:.0f} s CPU)",
                flush=True,
            )
            distance_sum = penalty_sum = loss_g_sum = 0.0
    return generator, losses


def patch_to_midi(patch):
    """Return a PrettyMIDI with one note per run of cells above 0.5 in each pitch row of ``patch``."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=MIDI_TEMPO_BPM)
    piano = pretty_midi.Instrument(program=0)
    active = patch > NOTE_THRESHOLD
    for row in range(active.shape[0]):
        # Runs of active cells start where the zero-padded row steps up and end where it steps down.
        edges = np.diff(np.concatenate([[0], active[row].astype(np.int8), [0]]))
        for start, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
            piano.notes.append(
                pretty_midi.Note(
                    velocity=MIDI_VELOCITY,
                    pitch=GRID.pitch_low + row,
                    start=start * MIDI_STEP_SECONDS,
                    end=end * MIDI_STEP_SECONDS,
                )
            )
    midi.instruments.append(piano)
    return midi


def write_midi_folder(samples):
    """Write each sample with a cell above 0.5 as MIDI, check it reads back unchanged, and return the skipped indices."""
    MIDI_DIR.mkdir(parents=True, exist_ok=True)
    for old in MIDI_DIR.glob("*.mid"):
        old.unlink()
    skipped = []
    for index, patch in enumerate(samples):
        if not (patch > NOTE_THRESHOLD).any():
            skipped.append(index)
            continue
        path = MIDI_DIR / f"{index:04d}.mid"
        patch_to_midi(patch).write(str(path))
        roll, _ = read_midi(path, GRID)
        expected = (patch > NOTE_THRESHOLD).astype(np.float64)
        # read_midi ends the roll at the last note off, so trailing empty steps are missing.
        if roll.shape[1] > PATCH_STEPS or not np.array_equal(roll, expected[:, : roll.shape[1]]):
            raise RuntimeError(f"{path} does not read back as the thresholded patch {index}")
    return skipped


def save_grid_png(path, patches, columns=4, scale=2):
    """Save patches as a grayscale grid, high pitches at the top, white = 1, with 2-pixel gray gaps."""
    rows = int(np.ceil(len(patches) / columns))
    height, width = patches.shape[1] * scale, patches.shape[2] * scale
    gap = 2
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), 128, dtype=np.uint8)
    for index, patch in enumerate(patches):
        pixels = np.round(np.clip(patch[::-1], 0.0, 1.0) * 255).astype(np.uint8)
        pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
        top = (index // columns) * (height + gap)
        left = (index % columns) * (width + gap)
        canvas[top : top + height, left : left + width] = pixels
    Image.fromarray(canvas).save(path)


def summarize_samples(samples):
    """Print the share of sample values near and exactly at 0 and 1."""
    print(
        f"wgan-gp samples: range [{samples.min():.3g}, {samples.max():.3g}], mean {samples.mean():.4f}; "
        f"share < 0.01: {np.mean(samples < 0.01):.4f}, > 0.99: {np.mean(samples > 0.99):.4f}, "
        f"exactly 0 or 1: {np.mean((samples == 0.0) | (samples == 1.0)):.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--generator-steps",
        type=int,
        default=GENERATOR_STEPS,
        help=f"generator updates to train; the fixtures use {GENERATOR_STEPS}",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(TRAIN_SEED)

    patches = load_patches(TRAIN_DIR)
    train_mean = float(patches.mean())
    print(f"training mean value {train_mean:.5f}")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    save_grid_png(BUILD_DIR / "real-grid.png", patches[np.random.default_rng(0).choice(len(patches), GRID_SAMPLES, replace=False)])

    started = time.process_time()
    generator, losses = train_wgan_gp(torch.from_numpy(patches).unsqueeze(1), args.generator_steps)
    print(f"trained {args.generator_steps} generator steps in {time.process_time() - started:.0f} s CPU; final losses {losses}")

    generator.eval()
    latent = torch.randn(NUM_SAMPLES, LATENT_DIM, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    with torch.no_grad():
        samples = generator(latent).squeeze(1).numpy().astype(np.float32)
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    np.save(FIXTURES_DIR / "wgan-gp.npy", samples, allow_pickle=False)
    summarize_samples(samples)

    skipped = write_midi_folder(samples)
    print(f"wrote {NUM_SAMPLES - len(skipped)} MIDI files; skipped {len(skipped)} patches with no cell above 0.5: {skipped}")

    bernoulli = np.random.default_rng(BERNOULLI_SEED).random((NUM_SAMPLES, GRID.pitch_count, PATCH_STEPS)) < train_mean
    np.save(FIXTURES_DIR / "bernoulli.npy", bernoulli, allow_pickle=False)
    print(f"bernoulli: {NUM_SAMPLES} patches with p = {train_mean:.5f}, observed mean {bernoulli.mean():.5f}")

    torch.save(generator.state_dict(), BUILD_DIR / "wgan-generator.pt")
    save_grid_png(BUILD_DIR / "wgan-grid.png", samples[:GRID_SAMPLES])


if __name__ == "__main__":
    main()
