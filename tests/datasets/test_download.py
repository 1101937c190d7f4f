"""ganlib.datasets.download: the checked, cached download of the real Pix2Pix / CycleGAN datasets, tested on local
files (file:// URLs and a stand-in for urlopen): no network."""

import hashlib
import io
import socket
import tarfile
import zipfile
from email.message import Message
from urllib.error import HTTPError, URLError

import pytest

from ganlib.data import DatasetUnavailable
from ganlib.datasets import download
from ganlib.datasets.download import REGISTRY, RemoteDataset, UnverifiedDownload, fetch_dataset
from ganlib.datasets.translation import OFFLINE
from ganlib.utils import file_hash

FILES = {"tiny/train/0.txt": b"zero", "tiny/train/1.txt": b"one", "tiny/val/2.txt": b"two"}


def _tar(path, files=FILES):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _zip(path, files=FILES):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _spec(archive, sha256="auto", **kwargs):
    digest = hashlib.sha256(archive.read_bytes()).hexdigest() if sha256 == "auto" else sha256
    return RemoteDataset("tiny", archive.as_uri(), digest, kwargs.pop("kind", "paired"), ("train", "val"), **kwargs)


@pytest.fixture
def server(tmp_path):
    """A folder standing for the server, and the download root."""
    (tmp_path / "server").mkdir()
    return tmp_path / "server", tmp_path / "downloads"


def _no_network(*args, **kwargs):
    raise AssertionError("urlopen must not be called")


def _leftovers(root):
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# -- a good download ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_tar, _zip])
def test_download_checks_and_unpacks(server, make, capsys):
    remote, root = server
    spec = _spec(make(remote / ("tiny.tar.gz" if make is _tar else "tiny.zip")))
    folder = fetch_dataset(spec, root)
    assert folder == root / "tiny"
    assert (folder / "train" / "0.txt").read_bytes() == b"zero" and (folder / "val" / "2.txt").read_bytes() == b"two"
    assert (folder / download.COMPLETE).read_text().split()[0] == spec.sha256
    assert _leftovers(root) == ["tiny"]  # no archive (keep_archive=False), no .partial, no scratch folder
    out = capsys.readouterr().out
    assert "Downloading tiny" in out and "tiny is ready" in out


def test_cached_dataset_is_not_downloaded_again(server, monkeypatch):
    remote, root = server
    spec = _spec(_tar(remote / "tiny.tar.gz"))
    first = fetch_dataset(spec, root, quiet=True)
    monkeypatch.setattr(download, "urlopen", _no_network)
    (remote / "tiny.tar.gz").unlink()  # not even the server is needed any more
    assert fetch_dataset(spec, root, quiet=True) == first


def test_archive_already_there_is_checked_and_unpacked_without_network(server, monkeypatch):
    remote, root = server
    spec = _spec(_tar(remote / "tiny.tar.gz"))
    fetch_dataset(spec, root, keep_archive=True, quiet=True)
    assert (root / "tiny.tar.gz").exists()
    (root / "tiny" / "train" / "0.txt").unlink()
    (root / "tiny" / download.COMPLETE).unlink()
    for p in sorted((root / "tiny").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (root / "tiny").rmdir()
    monkeypatch.setattr(download, "urlopen", _no_network)
    folder = fetch_dataset(spec, root, quiet=True)
    assert (folder / "train" / "0.txt").read_bytes() == b"zero"


# -- a wrong file ----------------------------------------------------------------------------------
def test_bad_checksum_is_rejected_and_the_download_deleted(server):
    remote, root = server
    archive = _tar(remote / "tiny.tar.gz")
    got = file_hash(archive)
    spec = _spec(archive, sha256="0" * 64)
    with pytest.raises(DatasetUnavailable) as info:
        fetch_dataset(spec, root, quiet=True)
    message = str(info.value)
    assert f"its SHA-256 is {got}, expected {'0' * 64}" in message
    assert "The downloaded file was deleted" in message and "Run again" in message
    assert f"sha256={got!r}" in message  # how to accept it on purpose
    assert "'tops2digits'" in message  # the offline default needs no network
    assert _leftovers(root) == []


def test_wrong_size_is_rejected_before_hashing(server):
    remote, root = server
    spec = _spec(_tar(remote / "tiny.tar.gz"), size=10**6)
    with pytest.raises(DatasetUnavailable, match=r"bytes long; expected 1000000: it was cut short.*file was deleted"):
        fetch_dataset(spec, root, quiet=True)
    assert _leftovers(root) == []


def test_wrong_archive_placed_by_hand_is_named_and_kept(server, monkeypatch):
    remote, root = server
    spec = _spec(_tar(remote / "tiny.tar.gz"))
    root.mkdir()
    (root / "tiny.tar.gz").write_bytes(b"something else")
    monkeypatch.setattr(download, "urlopen", _no_network)
    with pytest.raises(DatasetUnavailable) as info:
        fetch_dataset(spec, root, quiet=True)
    assert f"{root / 'tiny.tar.gz'} is not the expected file for 'tiny'" in str(info.value)
    assert "Delete it and run again" in str(info.value)
    assert (root / "tiny.tar.gz").read_bytes() == b"something else"


def test_sha256_argument_overrides_the_registry(server):
    remote, root = server
    archive = _tar(remote / "tiny.tar.gz")
    spec = _spec(archive, sha256="f" * 64)
    assert fetch_dataset(spec, root, sha256=file_hash(archive), quiet=True).is_dir()


# -- an unreachable host ---------------------------------------------------------------------------
@pytest.mark.parametrize("error", [
    URLError(socket.gaierror(-2, "Name or service not known")),
    URLError(ConnectionRefusedError(111, "Connection refused")),
    TimeoutError("timed out"),
])
def test_unreachable_host_says_what_to_do(tmp_path, monkeypatch, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(download, "urlopen", fail)
    root = tmp_path / "downloads"
    with pytest.raises(DatasetUnavailable) as info:
        fetch_dataset("horse2zebra", root, quiet=True)
    message = str(info.value)
    assert "the host efrosgans.eecs.berkeley.edu cannot be reached from here" in message
    assert "'thin2thick'" in message and "needs no network" in message  # the offline default
    assert REGISTRY["horse2zebra"].url in message and str(root / "horse2zebra.zip") in message  # by hand
    assert _leftovers(root) == []


def test_unreachable_host_on_a_real_socket(tmp_path):
    with socket.socket() as s:  # a local port that nothing listens on: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = RemoteDataset("tiny", f"http://127.0.0.1:{port}/tiny.tar.gz", "0" * 64, "unpaired", ("train",))
    with pytest.raises(DatasetUnavailable, match=f"the host 127.0.0.1:{port} cannot be reached from here"):
        fetch_dataset(spec, tmp_path, quiet=True, timeout=5)
    assert _leftovers(tmp_path) == []


def test_connection_cut_during_the_download(tmp_path, monkeypatch):
    class Cut:
        headers = Message()

        def __init__(self):
            self.calls = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError(104, "Connection reset by peer")
            return b"x" * 100

    monkeypatch.setattr(download, "urlopen", lambda *a, **k: Cut())
    with pytest.raises(DatasetUnavailable, match="cannot be reached from here.*Connection reset by peer"):
        fetch_dataset("facades", tmp_path, quiet=True)
    assert _leftovers(tmp_path) == []  # the partial file is gone


def test_http_error_is_not_called_unreachable(tmp_path, monkeypatch):
    def not_found(url, timeout):
        raise HTTPError(url, 404, "Not Found", Message(), None)

    monkeypatch.setattr(download, "urlopen", not_found)
    with pytest.raises(DatasetUnavailable) as info:
        fetch_dataset("maps", tmp_path, quiet=True)
    message = str(info.value)
    assert "answered HTTP 404 (Not Found)" in message and "may have moved" in message
    assert "'tops2digits'" in message and str(tmp_path / "maps.tar.gz") in message


# -- unknown checksums -----------------------------------------------------------------------------
def test_unknown_checksum_is_accepted_with_a_warning_and_recorded(server):
    remote, root = server
    archive = _tar(remote / "tiny.tar.gz")
    digest = file_hash(archive)
    with pytest.warns(UnverifiedDownload, match=f"not verified: its SHA-256 is {digest}"):
        fetch_dataset(_spec(archive, sha256=None), root, keep_archive=True, quiet=True)
    assert (root / "tiny.tar.gz.sha256").read_text().split()[0] == digest
    # trust on first use: a different archive in its place is caught later
    for p in sorted((root / "tiny").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (root / "tiny").rmdir()
    _tar(root / "tiny.tar.gz", {"tiny/train/0.txt": b"changed"})
    with pytest.raises(DatasetUnavailable, match=f"expected {digest}"):
        fetch_dataset(_spec(archive, sha256=None), root, quiet=True)


def test_unknown_checksum_can_be_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "urlopen", _no_network)
    with pytest.raises(DatasetUnavailable, match="No checksum is known for 'facades', and allow_unverified=False"):
        fetch_dataset("facades", tmp_path, allow_unverified=False)
    assert _leftovers(tmp_path) == []


# -- archives that are not what they claim -----------------------------------------------------------
def test_archive_without_the_expected_folder(server):
    remote, root = server
    spec = _spec(_tar(remote / "tiny.tar.gz", {"other/a.txt": b"a"}))
    with pytest.raises(DatasetUnavailable, match=r"does not hold the folder tiny/.*it holds \['other'\]"):
        fetch_dataset(spec, root, quiet=True)
    assert _leftovers(root) == ["tiny.tar.gz"]  # checked and kept; no scratch folder left


def test_damaged_archive(server):
    remote, root = server
    (remote / "tiny.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetUnavailable, match="could not be unpacked.*damaged"):
        fetch_dataset(_spec(remote / "tiny.tar.gz"), root, quiet=True)
    assert _leftovers(root) == ["tiny.tar.gz"]


@pytest.mark.parametrize("make, name", [(_tar, "tiny.tar.gz"), (_zip, "tiny.zip")])
def test_archive_with_a_path_outside_is_refused(server, make, name):
    remote, root = server
    spec = _spec(make(remote / name, {"tiny/a.txt": b"a", "../escaped.txt": b"evil"}))
    with pytest.raises(DatasetUnavailable, match="holds a path outside its folder.*not unpacked"):
        fetch_dataset(spec, root, quiet=True)
    assert not (root.parent / "escaped.txt").exists() and not (root / "tiny").exists()


# -- the registry ----------------------------------------------------------------------------------
def test_registry_entries():
    assert set(download.OFFLINE_DEFAULTS.values()) <= set(OFFLINE)
    assert {OFFLINE[name] for name in download.OFFLINE_DEFAULTS.values()} == {"paired", "unpaired"}
    for name, spec in REGISTRY.items():
        assert spec.name == name and spec.folder == name
        assert spec.url.startswith("http://efrosgans.eecs.berkeley.edu/") and spec.url.endswith(spec.filename)
        if spec.kind == "paired":  # Pix2Pix: no published checksum known, so unverified (see the module docstring)
            assert spec.sha256 is None and spec.filename == f"{name}.tar.gz"
        else:  # CycleGAN: SHA-256 and size published by TensorFlow Datasets
            assert len(spec.sha256) == 64 and spec.size > 10**7 and spec.source == download.TFDS_SOURCE
            assert spec.splits == ("train", "test") and spec.filename == f"{name}.zip"
    assert REGISTRY["facades"].direction == "BtoA" and REGISTRY["edges2shoes"].direction == "AtoB"


def test_registry_and_spec_errors():
    with pytest.raises(ValueError, match="unknown dataset 'zebras'; expected one of: facades, cityscapes"):
        fetch_dataset("zebras")
    with pytest.raises(ValueError, match="kind must be one of paired, unpaired; got 'aligned'"):
        RemoteDataset("x", "http://h/x.zip", None, "aligned", ("train",))
    with pytest.raises(ValueError, match="sha256 must be 64 lowercase hex digits or None"):
        RemoteDataset("x", "http://h/x.zip", "ABC", "paired", ("train",))
    with pytest.raises(ValueError, match="direction must be 'AtoB' or 'BtoA'"):
        RemoteDataset("x", "http://h/x.zip", None, "paired", ("train",), direction="left")


def test_default_root_is_data_downloads(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLIB_DATA", str(tmp_path))
    assert download.downloads_dir() == tmp_path / "downloads"
    (tmp_path / "downloads" / "facades").mkdir(parents=True)
    monkeypatch.setattr(download, "urlopen", _no_network)
    assert fetch_dataset("facades") == tmp_path / "downloads" / "facades"
