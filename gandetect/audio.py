"""Read speech audio into compressed, scaled mel-spectrogram patches.

The defaults are the settings of "Interesting properties of GAN samples":
64 mel bands, a 1024-sample window, a hop of 160 samples and dynamic-range
compression ``log(1 + C * M)`` with C = 1000, then a linear map to [0, 1]
by bounds that the profile stores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gandetect.errors import InputError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg"})

# Share of samples at full scale above which a recording is noted as clipped.
CLIPPED_SHARE = 0.001
DEFAULT_MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class MelSettings:
    """The representation a speech profile fixes.

    Attributes
    ----------
    sample_rate : int, Hz
        Audio is resampled to this rate before analysis.
    n_mels, n_fft, hop_length : int
        Mel bands, window length and hop, in samples.
    compression : float
        C of ``log(1 + C * M)``.
    scale_low, scale_high : float
        Compressed values map linearly from [scale_low, scale_high] to
        [0, 1]; values outside are clipped.
    patch_frames : int
        Frames per patch.
    """

    sample_rate: int = 8000
    n_mels: int = 64
    n_fft: int = 1024
    hop_length: int = 160
    compression: float = 1000.0
    scale_low: float = 0.0
    scale_high: float = 1.0
    patch_frames: int = 64


def settings_from(representation: dict) -> MelSettings:
    """Build MelSettings from a profile's representation, ignoring other keys."""
    from dataclasses import fields

    names = {item.name for item in fields(MelSettings)}
    settings = MelSettings(**{key: value for key, value in representation.items() if key in names})
    if not settings.scale_high > settings.scale_low:
        raise ValueError(f"mel scale bounds [{settings.scale_low}, {settings.scale_high}] are empty")
    return settings


def read_audio(
    path: str | os.PathLike, sample_rate: int, *, max_seconds: float = DEFAULT_MAX_SECONDS
) -> tuple[np.ndarray, list[str]]:
    """Read an audio file as mono float64 samples at ``sample_rate``.

    Channels are averaged. Integer PCM is scaled to [-1, 1) by soundfile.

    Returns
    -------
    samples : np.ndarray of shape (n,), float64
    notes : list of str
        Mono mix-down, resampling and clipping, when they happened.

    Raises
    ------
    InputError
        The file is unreadable, empty, longer than ``max_seconds`` or contains
        NaN or infinite samples.
    """
    import soundfile

    source = os.fsdecode(path)
    try:
        info = soundfile.info(source)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise InputError(f"{source}: not a readable audio file ({_first_line(error)})") from None
    if info.samplerate <= 0 or info.channels <= 0:
        raise InputError(f"{source}: invalid header (rate {info.samplerate} Hz, {info.channels} channels)")
    if info.frames / info.samplerate > max_seconds:
        raise InputError(
            f"{source}: header declares {info.frames / info.samplerate:.0f} s of audio, above "
            f"the cap of {max_seconds:g} s; raise --max-seconds"
        )
    try:
        data, rate = soundfile.read(source, dtype="float64", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError, ValueError) as error:
        raise InputError(f"{source}: damaged audio data ({_first_line(error)})") from None
    if data.shape[0] == 0:
        raise InputError(f"{source}: contains no audio samples")
    if not np.isfinite(data).all():
        raise InputError(f"{source}: contains NaN or infinite samples")

    notes = []
    clipped = float((np.abs(data) >= 0.999).mean())
    if clipped > CLIPPED_SHARE:
        notes.append(f"clipped: {clipped:.2%} of samples at full scale")
    if data.shape[1] > 1:
        notes.append(f"{data.shape[1]} channels mixed down to mono")
    samples = data.mean(axis=1)
    if rate != sample_rate:
        import librosa

        samples = librosa.resample(samples, orig_sr=rate, target_sr=sample_rate)
        notes.append(f"resampled from {rate} Hz to {sample_rate} Hz")
    return samples, notes


# Frames transformed together by compressed_mel.
STFT_BLOCK = 256


def compressed_mel(samples: np.ndarray, settings: MelSettings) -> np.ndarray:
    """Mel power spectrogram compressed by ``log(1 + C * M)``.

    ``M`` equals ``librosa.feature.melspectrogram`` with the settings' window,
    hop and bands (power 2, centred frames padded with zeros, periodic Hann
    window, Slaney mel filters); a test checks the two agree. The STFT runs
    in numpy and the filter bank, made by ``librosa.filters.mel``, is cached
    on disk, because importing librosa costs about two seconds per run.

    Returns
    -------
    np.ndarray of shape (n_mels, frames), float64, >= 0
    """
    samples = np.asarray(samples, dtype=np.float64)
    n_fft, hop = settings.n_fft, settings.hop_length
    padded = np.pad(samples, n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)
    bank = mel_filter_bank(settings)
    mel = np.empty((bank.shape[0], frames.shape[0]))
    # Blocks of frames keep the spectra in cache: about twice as fast as one
    # transform of every frame for a minute of audio, with the same values.
    for start in range(0, frames.shape[0], STFT_BLOCK):
        block = frames[start : start + STFT_BLOCK]
        power = np.abs(np.fft.rfft(block * window, axis=1)) ** 2
        mel[:, start : start + STFT_BLOCK] = bank @ power.T
    return np.log1p(settings.compression * mel)


_FILTER_BANKS: dict[tuple[int, int, int], np.ndarray] = {}


def mel_filter_bank(settings: MelSettings) -> np.ndarray:
    """``librosa.filters.mel`` for the settings, from memory, the disk cache, or librosa.

    The cache lives in ``$XDG_CACHE_HOME/gandetect`` (default ``~/.cache/gandetect``);
    a folder that cannot be written only means librosa is imported each run.

    Returns
    -------
    np.ndarray of shape (n_mels, n_fft // 2 + 1), float64
    """
    key = (settings.sample_rate, settings.n_fft, settings.n_mels)
    if key in _FILTER_BANKS:
        return _FILTER_BANKS[key]

    folder = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gandetect")
    librosa_version = _librosa_version()
    path = os.path.join(folder, f"mel-{key[0]}-{key[1]}-{key[2]}-librosa-{librosa_version}.npy")
    bank = None
    try:
        bank = np.load(path, allow_pickle=False)
        if bank.shape != (settings.n_mels, settings.n_fft // 2 + 1) or not np.isfinite(bank).all():
            bank = None
    except (OSError, ValueError):
        bank = None
    if bank is None:
        import librosa

        bank = librosa.filters.mel(sr=settings.sample_rate, n_fft=settings.n_fft, n_mels=settings.n_mels).astype(np.float64)
        _write_cache(path, bank)
    _FILTER_BANKS[key] = bank
    return bank


def _librosa_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("librosa")
    except PackageNotFoundError:
        return "unknown"


def _write_cache(path: str, bank: np.ndarray) -> None:
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".npy")
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, bank)
        os.replace(temporary, path)
    except OSError:
        pass


def scale_compressed(compressed: np.ndarray, settings: MelSettings) -> np.ndarray:
    """Map compressed values to [0, 1] by the settings' bounds, clipping outside them."""
    span = settings.scale_high - settings.scale_low
    return np.clip((compressed - settings.scale_low) / span, 0.0, 1.0)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
