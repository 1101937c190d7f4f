"""Downloading the real image-to-image datasets for ``full`` mode (lessons 05 and 06).

The lessons' default datasets are generated offline from the MNIST that ships with the course
(:mod:`ganlib.datasets.translation`); nothing here is needed for them. On a GPU the lessons can switch to
the datasets of the papers, by name, with one line in the config cell:

* Pix2Pix (paired; each file holds the two images side by side, A | B): ``facades``,
  ``cityscapes``, ``maps``, ``edges2shoes``, ``edges2handbags``, ``night2day``;
* CycleGAN (unpaired; folders ``trainA``, ``trainB``, ``testA``, ``testB``): ``horse2zebra``,
  ``apple2orange``, ``summer2winter_yosemite``, ``monet2photo``, ``cezanne2photo``,
  ``ukiyoe2photo``, ``vangogh2photo``, ``iphone2dslr_flower``.

:func:`fetch_dataset` downloads the archive once into ``data/downloads/`` (to a ``.partial``
file, renamed only when complete and checked), unpacks it there, and afterwards finds it on disk
without touching the network. Whatever goes wrong (the host cannot be reached, the server answers
with an error, the file is not the expected one) ends in one :class:`ganlib.data.DatasetUnavailable`
whose message says what happened and what to do.

**Checksums.** Each archive is checked by its SHA-256. The CycleGAN archives have the SHA-256 and
size that TensorFlow Datasets publishes for them (its ``url_checksums/cycle_gan.txt``, for the same
files under their former address). No published checksum is known to the course for the Pix2Pix
archives: their ``sha256`` is ``None``. For those, by default (``allow_unverified=True``), the
download is accepted, its SHA-256 is computed and shown in an :class:`UnverifiedDownload` warning
(paste it into :data:`REGISTRY` to pin it), and it is recorded beside the archive, so that later
runs check the cached archive against it (trust on first use). ``allow_unverified=False`` refuses
such datasets before downloading anything; ``sha256=...`` supplies or overrides the expected value.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import urlopen

from ..data import DatasetUnavailable, data_dir
from ..utils import file_hash

KINDS = ("paired", "unpaired")
OFFLINE_DEFAULTS = {"paired": "tops2digits", "unpaired": "thin2thick"}  # need no network (ganlib.datasets.translation)
TFDS_SOURCE = "TensorFlow Datasets, url_checksums/cycle_gan.txt"
COMPLETE = ".ganlib-complete"  # written into an unpacked folder once it is whole


class UnverifiedDownload(UserWarning):
    """A dataset was accepted without a known checksum (see the policy in :mod:`ganlib.datasets.download`)."""


@dataclass(frozen=True)
class RemoteDataset:
    """Where one dataset lives and what its archive holds.

    ``folder`` is the folder the archive unpacks to; ``kind`` is ``"paired"`` (Pix2Pix: every image
    is A | B side by side, in folders named after ``splits``; ``direction`` says which half is the
    input) or ``"unpaired"`` (CycleGAN: ``<split>A`` and ``<split>B`` folders). ``sha256`` (of the
    archive) is ``None`` when unknown; ``size`` is its length in bytes when known; ``source`` says
    where the checksum comes from. ``domains`` names what is translated into what: (input, target)
    for paired sets, (A, B) for unpaired ones, e.g. ("labels", "photo") for facades.
    """

    name: str
    url: str
    sha256: str | None
    kind: str
    splits: tuple[str, ...]
    folder: str = ""
    direction: str = "AtoB"
    size: int | None = None
    source: str = ""
    domains: tuple[str, str] = ("A", "B")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}.")
        if self.direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA'; got {self.direction!r}.")
        if self.sha256 is not None and (len(self.sha256) != 64 or set(self.sha256) - set("0123456789abcdef")):
            raise ValueError(f"sha256 must be 64 lowercase hex digits or None; got {self.sha256!r}.")
        if not self.folder:
            object.__setattr__(self, "folder", self.name)

    @property
    def filename(self) -> str:
        """The archive's file name, as in its URL."""
        return Path(urlparse(self.url).path).name

    @property
    def host(self) -> str:
        return urlparse(self.url).netloc or self.url


PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip"


def _pix2pix(name: str, direction: str, splits: tuple[str, ...], domains: tuple[str, str]) -> RemoteDataset:
    return RemoteDataset(name, PIX2PIX_URL.format(name), None, "paired", splits, direction=direction, domains=domains)


def _cyclegan(name: str, sha256: str, size: int, domains: tuple[str, str]) -> RemoteDataset:
    return RemoteDataset(name, CYCLEGAN_URL.format(name), sha256, "unpaired", ("train", "test"), size=size,
                         source=TFDS_SOURCE, domains=domains)


REGISTRY: dict[str, RemoteDataset] = {d.name: d for d in (
    # Pix2Pix: input <- the half named by direction; no published checksum known (sha256=None, unverified)
    _pix2pix("facades", "BtoA", ("train", "val", "test"), ("labels", "photo")),
    _pix2pix("cityscapes", "BtoA", ("train", "val"), ("labels", "photo")),
    _pix2pix("maps", "AtoB", ("train", "val"), ("aerial photo", "map")),
    _pix2pix("edges2shoes", "AtoB", ("train", "val"), ("edges", "photo")),
    _pix2pix("edges2handbags", "AtoB", ("train", "val"), ("edges", "photo")),
    _pix2pix("night2day", "AtoB", ("train", "val", "test"), ("night", "day")),
    # CycleGAN: SHA-256 and size as published by TensorFlow Datasets
    _cyclegan("horse2zebra", "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1", 116867962,
              ("horse", "zebra")),
    _cyclegan("apple2orange", "845a191e9af8926408ea597001cd03a452e3300a1f44a79fe329b3d59f6e3eb8", 78456409,
              ("apple", "orange")),
    _cyclegan("summer2winter_yosemite", "167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9",
              132640856, ("summer", "winter")),
    _cyclegan("monet2photo", "88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04", 305231073,
              ("Monet", "photo")),
    _cyclegan("cezanne2photo", "3a6c10ca21f9485862f1cbd707744b9dc258954a04631271d23a3605eeb63cff", 279885071,
              ("Cézanne", "photo")),
    _cyclegan("ukiyoe2photo", "02a2a2fb5ecf425ca1bf86aca7304377da64a2a1d3b86df54eb65e4068bf3b08", 292946532,
              ("ukiyo-e", "photo")),
    _cyclegan("vangogh2photo", "362c3473e70be0944bda08d49d660eafdc2854df55d697835b8186d1d79caaff", 306590349,
              ("Van Gogh", "photo")),
    _cyclegan("iphone2dslr_flower", "8fcb5e374d631b107e1d961b8c4cd0a186aa2a4ff3e279923f4c426128de7113", 339964458,
              ("iPhone", "DSLR")),
)}


def downloads_dir(root: str | Path | None = None) -> Path:
    """Where archives and unpacked datasets go: ``root`` if given, else ``data/downloads`` (see ``data_dir``)."""
    return Path(root) if root is not None else data_dir() / "downloads"


def _spec(dataset: str | RemoteDataset) -> RemoteDataset:
    if isinstance(dataset, RemoteDataset):
        return dataset
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of: {', '.join(REGISTRY)} "
                         f"(or the offline {' / '.join(OFFLINE_DEFAULTS.values())} through ganlib.datasets.translation).")
    return REGISTRY[dataset]


def _by_hand(spec: RemoteDataset, archive: Path) -> str:
    return (f"To place it by hand, download {spec.url} on a machine with internet and copy it to {archive} "
            f"(the next call checks and unpacks it), or unpack it yourself so that {archive.parent / spec.folder} "
            f"exists.")


def _offline_hint(spec: RemoteDataset) -> str:
    return (f"The lesson's default dataset, {OFFLINE_DEFAULTS[spec.kind]!r}, is made from the MNIST that ships "
            f"with the course and needs no network: select it in the config cell to go on.")


def _download(spec: RemoteDataset, archive: Path, timeout: float, quiet: bool) -> str:
    """Stream ``spec.url`` into ``archive.partial`` and return its SHA-256; the partial file is removed on failure."""
    partial = archive.with_name(archive.name + ".partial")
    digest, n_bytes = hashlib.sha256(), 0
    try:
        with urlopen(spec.url, timeout=timeout) as response, open(partial, "wb") as out:
            total = response.headers.get("Content-Length") if response.headers else None
            if not quiet:
                size = f" ({int(total) / 2**20:.0f} MiB)" if total and total.isdigit() else ""
                print(f"Downloading {spec.name}{size} from {spec.host} ...", flush=True)
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                digest.update(chunk)
                n_bytes += len(chunk)
    except HTTPError as err:
        partial.unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"Could not download {spec.name!r}: {spec.host} answered HTTP {err.code} ({err.reason}) for {spec.url}. "
            f"The file may have moved or the server may be down for a while; try again later or find its new "
            f"address (the Pix2Pix and CycleGAN repositories list them). {_offline_hint(spec)} "
            f"{_by_hand(spec, archive)}"
        ) from err
    except (URLError, TimeoutError, ConnectionError, HTTPException) as err:  # no route or DNS, refused, timed out, cut
        partial.unlink(missing_ok=True)
        reason = getattr(err, "reason", None) or err
        raise DatasetUnavailable(
            f"Could not download {spec.name!r}: the host {spec.host} cannot be reached from here ({reason}). "
            f"This machine may have no internet access, or the server may be down. {_offline_hint(spec)} "
            f"{_by_hand(spec, archive)}"
        ) from err
    except OSError as err:  # not the network: the disk (full, read-only)
        partial.unlink(missing_ok=True)
        raise DatasetUnavailable(f"Could not write {partial} while downloading {spec.name!r} ({err}). Free some disk "
                                 f"space or pass another root folder.") from err
    except BaseException:  # e.g. KeyboardInterrupt: never leave a partial file behind
        partial.unlink(missing_ok=True)
        raise
    if spec.size is not None and n_bytes != spec.size:
        partial.unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"The download of {spec.name!r} from {spec.host} is {n_bytes} bytes long; expected {spec.size}: it was "
            f"cut short or the file has changed. The partial file was deleted. Run again to retry. "
            f"{_by_hand(spec, archive)}")
    partial.replace(archive)
    return digest.hexdigest()


def _unpack(spec: RemoteDataset, archive: Path, target: Path) -> None:
    """Unpack ``archive`` into a scratch folder, check it holds ``spec.folder``, move that to ``target``."""
    scratch = target.with_name(f".{target.name}.unpacking")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                for name in z.namelist():
                    if not (scratch / name).resolve().is_relative_to(scratch.resolve()):
                        raise DatasetUnavailable(f"{archive} holds a path outside its folder ({name!r}); it was not "
                                                 f"unpacked. Delete it; it is not the dataset the course expects.")
                z.extractall(scratch)
        else:
            with tarfile.open(archive, "r:*") as tar:
                if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
                    tar.extractall(scratch, filter="data")  # refuses absolute paths, '..', links out, devices
                else:  # pragma: no cover - older Pythons
                    for member in tar.getmembers():
                        if not (member.isfile() or member.isdir()) or not (
                                scratch / member.name).resolve().is_relative_to(scratch.resolve()):
                            raise DatasetUnavailable(f"{archive} holds {member.name!r}, which is not a plain file "
                                                     f"inside its folder; not unpacked.")
                    tar.extractall(scratch)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        shutil.rmtree(scratch, ignore_errors=True)
        reason = " ".join(str(err).split())
        if isinstance(err, getattr(tarfile, "FilterError", ())):
            raise DatasetUnavailable(f"{archive} holds a path outside its folder or a special file ({reason}); it was "
                                     f"not unpacked. Delete it; it is not the dataset the course expects.") from err
        raise DatasetUnavailable(
            f"{archive} could not be unpacked ({reason}): it is damaged or not a .zip/.tar archive. Delete it and run "
            f"again to download it afresh.") from err
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    unpacked = scratch / spec.folder
    if not unpacked.is_dir():
        found = sorted(p.name for p in scratch.iterdir())
        shutil.rmtree(scratch, ignore_errors=True)
        raise DatasetUnavailable(f"{archive} does not hold the folder {spec.folder}/ that {spec.name!r} should "
                                 f"unpack to; it holds {found}. Delete it and download it again.")
    unpacked.replace(target)
    shutil.rmtree(scratch, ignore_errors=True)


def fetch_dataset(
    dataset: str | RemoteDataset,
    root: str | Path | None = None,
    *,
    sha256: str | None = None,
    allow_unverified: bool = True,
    keep_archive: bool = False,
    timeout: float = 60.0,
    quiet: bool = False,
) -> Path:
    """The folder of a real dataset (a name in :data:`REGISTRY`, or a :class:`RemoteDataset`), downloaded once.

    1. If ``root/<folder>`` exists (unpacked by an earlier call, or by hand), return it: no network.
    2. Else take the archive ``root/<file>`` if it is there, or download it to ``<file>.partial``;
       check its SHA-256 (``sha256`` if given, else the registry's; see the module's policy for
       ``None``) and, for downloads, its size.
    3. Unpack it next to itself, through a scratch folder, so an interrupted run leaves nothing half
       done; delete the archive unless ``keep_archive``.

    ``root`` defaults to ``data/downloads``. Raises :class:`ganlib.data.DatasetUnavailable` with
    what happened and what to do when the host cannot be reached or the file is wrong.
    """
    spec = _spec(dataset)
    root = downloads_dir(root)
    target = root / spec.folder
    if target.is_dir():
        return target
    expected = sha256 if sha256 is not None else spec.sha256
    if expected is None and not allow_unverified:
        raise DatasetUnavailable(
            f"No checksum is known for {spec.name!r}, and allow_unverified=False: nothing was downloaded. Pass "
            f"sha256='<its SHA-256>' if you know it, or allow_unverified=True to accept the file and see its SHA-256. "
            f"{_offline_hint(spec)}")
    root.mkdir(parents=True, exist_ok=True)
    archive = root / spec.filename
    recorded = archive.with_name(archive.name + ".sha256")  # trust on first use, for unknown checksums
    if expected is None and recorded.exists():
        expected = recorded.read_text().split()[0]
    if archive.exists():
        got, origin = file_hash(archive), "found"
    else:
        got, origin = _download(spec, archive, timeout, quiet), "downloaded"
    if expected is not None and got != expected:
        where = f"{expected} ({spec.source})" if spec.source and expected == spec.sha256 else expected
        if origin == "downloaded":
            archive.unlink()
            raise DatasetUnavailable(
                f"The download of {spec.name!r} from {spec.host} is not the expected file: its SHA-256 is {got}, "
                f"expected {where}. The downloaded file was deleted. Run again: a download cut short fails this way. "
                f"If it fails the same way again, the file on the server has changed; if you trust it, accept it "
                f"with fetch_dataset({spec.name!r}, sha256={got!r}). {_offline_hint(spec)}")
        raise DatasetUnavailable(
            f"{archive} is not the expected file for {spec.name!r}: its SHA-256 is {got}, expected {where}. It may be "
            f"incomplete or a different file. Delete it and run again to download it, or, if you trust it, accept it "
            f"with fetch_dataset({spec.name!r}, sha256={got!r}).")
    if expected is None:
        recorded.write_text(f"{got}  {spec.filename}\n")
        warnings.warn(
            f"{spec.name!r} was {origin} without a known checksum, so it is not verified: its SHA-256 is {got}. "
            f"To pin it, set sha256={got!r} for {spec.name!r} in ganlib.datasets.download.REGISTRY.",
            UnverifiedDownload, stacklevel=2)
    _unpack(spec, archive, target)
    (target / COMPLETE).write_text(f"{got}  {spec.url}\n")
    if not keep_archive:
        archive.unlink()
    if not quiet:
        print(f"{spec.name} is ready in {target}.", flush=True)
    return target
