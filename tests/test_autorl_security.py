"""The cluster mode's transport limits: idle connections, oversized messages, and TLS with client certificates."""

import shutil
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

SECRET = "test-secret-" + "ab" * 16


def _start_nameserver(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    directory = tmp_path / "ns"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autorl", "nameserver", "--run-id", "sec", "--dir", str(directory)]
        + ["--secret-file", str(secret), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 30
    while not (directory / "nameserver.json").exists():
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"nameserver did not start: {proc.communicate()[1]}")
        time.sleep(0.1)
    import json

    return proc, int(json.loads((directory / "nameserver.json").read_text())["port"])


def _ping(port: int, secret: str | None, *tls: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """A client in its own process (Pyro4's configuration is process-wide): ping the nameserver."""
    code = (
        "import sys; from autorl import compat, nameserver\n"
        f"tls = {list(tls)!r}\n"
        "if tls: compat.use_tls(*tls)\n"
        f"nameserver.check_nameserver('127.0.0.1', {port}, {secret!r}); print('ok')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def nameserver(tmp_path):
    proc, port = _start_nameserver(tmp_path)
    yield port
    proc.terminate()
    proc.communicate(timeout=30)


def test_idle_connections_do_not_lock_out_a_keyed_client(nameserver):
    """Pyro4's 40 threads and no timeout let 45 silent connections block every client for as long as they stay."""
    idle = [socket.create_connection(("127.0.0.1", nameserver)) for _ in range(60)]
    try:
        start = time.perf_counter()
        proc = _ping(nameserver, SECRET)
        assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
        assert time.perf_counter() - start < 15  # a fresh interpreter and imports, not a wait for a thread
    finally:
        for s in idle:
            s.close()


def test_a_message_larger_than_the_limit_is_refused_unread(nameserver):
    from autorl.compat import MAX_MESSAGE_BYTES

    # A valid Pyro4 connect header announcing a 1 GiB payload: the daemon must close the connection at once,
    # not wait to read it (and only then check its HMAC).
    size = 2**30
    assert size > MAX_MESSAGE_BYTES
    msg_type, version, flags, seq, serializer, annotations = 1, 48, 0, 1, 1, 0
    checksum = (msg_type + version + size + annotations + flags + serializer + seq + 0x34E9) & 0xFFFF
    header = struct.pack("!4sHHHHiHHHH", b"PYRO", version, msg_type, flags, seq, size, serializer, annotations, 0,
                         checksum)  # fmt: skip
    sock = socket.create_connection(("127.0.0.1", nameserver), timeout=10)
    sock.sendall(header + b"x" * 1000)
    start = time.perf_counter()
    try:
        while sock.recv(65536):
            pass
        closed = True
    except ConnectionResetError:
        closed = True
    except TimeoutError:  # still waiting for the rest of the gigabyte
        closed = False
    sock.close()
    assert closed and time.perf_counter() - start < 5
    assert _ping(nameserver, SECRET).returncode == 0  # and the daemon still serves keyed clients


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca_and_cert(folder: Path, name: str) -> tuple[str, str, str]:
    folder.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", f"/CN={name} CA", cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
             "-subj", f"/CN={name} node", cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "node.pem", "-days", "2", "-extfile", "san.ext", cwd=folder)  # fmt: skip
    return str(folder / "node.pem"), str(folder / "node.key"), str(folder / "ca.pem")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make test certificates")
def test_tls_admits_only_peers_with_a_certificate_of_the_runs_ca(tmp_path):
    cert, key, ca = _make_ca_and_cert(tmp_path / "run", "run")
    stranger = _make_ca_and_cert(tmp_path / "other", "other")
    proc, port = _start_nameserver(tmp_path, "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca)
    try:
        assert _ping(port, SECRET, cert, key, ca).returncode == 0  # the run's own certificate
        refused = _ping(port, SECRET, *stranger, timeout=90)  # a certificate of another CA
        assert refused.returncode != 0 and "ok" not in refused.stdout
        plain = _ping(port, SECRET, timeout=90)  # the secret alone, no TLS
        assert plain.returncode != 0 and "ok" not in plain.stdout
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
