"""``rnadesign serve``: the JSON API, jobs that survive a killed server, the queue, the token, and the page
driven in a real (headless Chromium) browser. Every design a test accepts is folded again with ViennaRNA."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
import RNA

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx (in the test extra)")

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from rnadesign import cli  # noqa: E402
from rnadesign.web.app import WebConfig, create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HAIRPIN = "((((((....))))))"
UNFOLDABLE = "(((((((.)))))))"
ROOT = Path(__file__).resolve().parent.parent


def refolds(sequence: str, target: str) -> bool:
    structure, _ = RNA.fold(sequence)
    return structure == target


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(WebConfig(data=tmp_path, workers=1, allowed_hosts=None))) as c:
        yield c


def cli_error(capsys, argv: list[str]) -> str:
    """The one line ``rnadesign`` prints for ``argv`` (which it must refuse)."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's refusals
        code = exit_.code
    assert code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("body", "argv", "field"),
    [
        ({"structure": HAIRPIN, "time_limit": 0}, [HAIRPIN, "-t", "0"], "time_limit"),
        ({"structure": HAIRPIN, "num_solutions": "two"}, [HAIRPIN, "-n", "two"], "num_solutions"),
        ({"structure": "((((....)))"}, ["((((....)))"], "structure"),
        ({"structure": HAIRPIN, "sequence": "GGX*"}, [HAIRPIN, "--sequence-constraint", "GGX*"], "sequence"),
        ({"structure": HAIRPIN, "gc_tolerance": 0.1}, [HAIRPIN, "--gc-tolerance", "0.1"], "gc_tolerance"),
        ({"structure": HAIRPIN, "avoid": "GGGG,CCZ"}, [HAIRPIN, "--avoid", "GGGG,CCZ"], "avoid"),
        ({"structure": HAIRPIN, "gc_content": 1.5}, [HAIRPIN, "--gc-content", "1.5"], "gc_content"),
        ({"structure": HAIRPIN, "temperature": "hot"}, [HAIRPIN, "--temperature", "hot"], "temperature"),
    ],
)
def test_bad_input_is_422_with_the_command_lines_message(client, capsys, body, argv, field):
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert response.json()["field"] == field
    assert "\n" not in detail
    assert detail in cli_error(capsys, ["design", *argv, "-q"])


def test_a_target_no_sequence_folds_into_is_accepted_with_the_proof_as_its_warning():
    """As ``rnadesign design`` warns and still designs, the page queues the job and shows the proof."""
    from rnadesign.web.forms import check_request

    target = ".....(((((.....)))))....((...))...."
    spec = check_request({"structure": target})
    assert spec.warnings == [
        "target: no sequence can fold into this target: the helix 25-31 to 26-30 always loses: without it the "
        "structure is at least 0.40 kcal/mol lower on every sequence"
    ]
    assert check_request({"structure": target, "dangles": 1}).warnings == []  # no proof where dangles reach further


def test_requests_cannot_reach_files_or_exceed_the_caps(client):
    refused = {
        "energy_parameters": {"structure": HAIRPIN, "energy_parameters": "/etc/passwd"},
        "time_limit": {"structure": HAIRPIN, "time_limit": 10_000},
        "structure": {"structure": "(" * 60_000 + ")" * 60_000},
        "policy": {"structure": HAIRPIN, "policy": "/etc/passwd"},
    }
    for field, body in refused.items():
        response = client.post("/api/jobs", json=body)
        assert response.status_code in (413, 422), (field, response.text)
    assert client.post("/api/jobs", data="structure=((((....))))").status_code == 415  # no cross-site form post
    evil = client.post("/api/jobs", json={"structure": HAIRPIN}, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/api/jobs/../../etc/passwd").status_code == 404
    assert client.get("/api/jobs").json() == {"jobs": []}


def test_loopback_server_refuses_foreign_host_headers(tmp_path):
    with TestClient(create_app(WebConfig(data=tmp_path))) as c:  # DNS rebinding: another name, same address
        assert c.get("/", headers={"Host": "evil.example"}).status_code == 400
        assert c.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_token_is_required_when_set(tmp_path):
    with TestClient(create_app(WebConfig(data=tmp_path, token="s3cret", allowed_hosts=None))) as c:
        assert c.get("/api/jobs").status_code == 401
        assert c.get("/api/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/api/jobs", json={"structure": HAIRPIN}).status_code == 401
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        assert c.get("/api/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.post("/login", data={"token": "wrong"}).status_code == 401
        c.get("/jobs?token=s3cret")  # once in the address: a cookie from then on
        assert c.get("/api/jobs").status_code == 200


def test_serve_refuses_a_public_host_without_token(capsys):
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rnadesign: error: refusing to listen on 0.0.0.0 without --token") and "\n" not in err


def test_serve_without_the_web_extra_names_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert cli.main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and 'pip install -e ".[web]"' in err and "uvicorn" in err


# -- a real server in a process of its own --------------------------------------------------------


class Server:
    """``rnadesign serve`` on a free port of 127.0.0.1, its stderr in a file."""

    def __init__(self, data: Path, log: Path, *extra: str):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rnadesign", "serve", "--port", "0", "--data", str(data), *extra],
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"serving (http://127\.0\.0\.1:\d+)/", log.read_text())
            if match:
                self.url = match.group(1)
                break
            assert self.process.poll() is None, log.read_text()
            time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not start: {log.read_text()}")
        while True:  # listening from the line on; wait until the app answers
            try:
                self.get("/api/jobs")
                break
            except OSError:
                time.sleep(0.1)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def post(self, body: dict) -> str:
        request = urllib.request.Request(
            self.url + "/api/jobs", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
            return json.loads(response.read())["id"]

    def wait(self, job_id: str, until, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(f"/api/jobs/{job_id}")
            if until(job):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


@pytest.fixture
def servers(tmp_path):
    started: list[Server] = []

    def start(*extra: str) -> Server:
        server = Server(tmp_path / "data", tmp_path / f"server{len(started)}.log", *extra)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop(signal.SIGKILL)


def test_jobs_queue_beyond_workers_and_a_killed_server_keeps_them(servers):
    server = servers("--workers", "1")
    # A long job: no sequence folds into a hairpin of one base, so it runs to its time limit.
    long_job = server.post({"structure": UNFOLDABLE, "time_limit": 120, "seed": 3})
    short_job = server.post({"structure": "((((....))))..((((....))))", "time_limit": 2, "seed": 4})
    running = server.wait(long_job, lambda j: j["status"] == "running" and j["progress"]["best_sequence"])
    assert server.get(f"/api/jobs/{short_job}")["status"] == "queued"  # one worker: the second waits
    best = running["progress"]["best_sequence"]
    assert running["warnings"] and "fewer than 3 unpaired" in running["warnings"][0]
    with urllib.request.urlopen(f"{server.url}/api/jobs/{long_job}/events", timeout=10) as events:
        lines = [events.readline().decode().strip() for _ in range(2)]  # the first event: live progress
    assert lines[0] == "event: progress"
    progress = json.loads(lines[1].removeprefix("data: "))
    assert progress["status"] == "running" and progress["elapsed"] > 0 and progress["best_distance"] >= 1

    workers = children(server.process.pid)
    assert workers  # the design runs in a process of its own
    server.stop(signal.SIGKILL)  # no shutdown code runs
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in workers):
        assert time.monotonic() < deadline, "the killed server's worker lives on"
        time.sleep(0.1)
    again = servers("--workers", "1")
    job = again.get(f"/api/jobs/{long_job}")
    assert job["status"] == "interrupted"
    assert job["best_so_far"]["best_sequence"] and len(job["best_so_far"]["best_sequence"]) == len(UNFOLDABLE)
    assert len(best) == len(UNFOLDABLE)
    listed = {j["id"]: j["status"] for j in again.get("/api/jobs")["jobs"]}
    assert listed[long_job] == "interrupted"

    done = again.wait(short_job, lambda j: j["status"] in ("done", "failed"))  # the queued job runs now
    assert done["status"] == "done"
    for design in done["designs"]:
        if design["solved"]:
            assert refolds(design["sequence"], "((((....))))..((((....))))")
    assert any(d["solved"] for d in done["designs"])
    assert again.get(f"/api/jobs/{long_job}")["status"] == "interrupted"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


# -- the page in a browser ------------------------------------------------------------------------


def _browser():
    """Headless Chromium through selenium, downloads into a folder; skips saying what is missing."""
    try:
        from selenium import webdriver
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium; it is in the test extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/lib/chromium/chromedriver" if os.path.exists("/usr/lib/chromium/chromedriver") else None
    )
    missing = [n for n, p in (("chromium", chromium), ("chromedriver (chromium-driver)", driver)) if p is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found on PATH: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(argument)
    return webdriver, options, driver


def test_the_page_designs_a_hairpin_in_a_browser(servers, tmp_path):
    webdriver, options, driver_path = _browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    server = servers()
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        browser.get(server.url + "/")
        # a refusal first: the CLI's message next to its field
        browser.find_element(By.ID, "structure").send_keys("((((....)))")
        browser.find_element(By.ID, "submit").click()
        error = WebDriverWait(browser, 10).until(
            lambda b: b.find_element(By.CSS_SELECTOR, '.error[data-for="structure"]').text or None
        )
        assert error == "unbalanced '(' at position 1"

        structure = browser.find_element(By.ID, "structure")
        structure.clear()
        structure.send_keys(HAIRPIN)
        time_limit = browser.find_element(By.ID, "time_limit")
        time_limit.clear()
        time_limit.send_keys("2")
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "designs")))
        sequence = browser.find_element(By.CSS_SELECTOR, "#designs code.sequence").text
        assert refolds(sequence, HAIRPIN)
        assert browser.find_element(By.CSS_SELECTOR, "#designs td.solved").text == "yes"
        browser.set_window_size(1280, 820)
        # The README's picture: RNADESIGN_SCREENSHOT=1 python -m pytest tests/test_web.py -k browser rewrites it;
        # otherwise the shot goes to the test's own folder, so a test run leaves the checkout as it was.
        shot = ROOT / "docs" / "web_page.png" if os.environ.get("RNADESIGN_SCREENSHOT") else tmp_path / "page.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000

        picture = browser.find_element(By.CSS_SELECTOR, "#designs a.picture").get_attribute("href")
        job_page = browser.current_url
        browser.get(picture)
        svg = browser.find_element(By.TAG_NAME, "svg")
        assert len(svg.find_elements(By.CSS_SELECTOR, "circle.base")) == len(HAIRPIN)
        browser.get(job_page)

        browser.find_element(By.ID, "download-csv").click()
        deadline = time.monotonic() + 20
        while not [p for p in downloads.glob("*.csv")]:
            assert time.monotonic() < deadline, list(downloads.iterdir())
            time.sleep(0.1)
        rows = list(csv.DictReader(io.StringIO(next(downloads.glob("*.csv")).read_text())))
        assert [r["sequence"] for r in rows] == [sequence]
        assert rows[0]["solved"] == "true" and rows[0]["target"] == HAIRPIN and refolds(rows[0]["sequence"], HAIRPIN)

        browser.get(server.url + "/jobs")
        assert "done" in browser.find_element(By.ID, "jobs").text
    finally:
        browser.quit()
