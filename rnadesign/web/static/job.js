// A job's page: live progress from /api/jobs/{id}/events (server-sent events) until the job ends,
// then the page reloads to show the designs.
"use strict";
(function () {
  const box = document.getElementById("progress");
  if (!box || box.dataset.final === "true") return;
  const id = box.dataset.job;
  const status = document.getElementById("status");
  const show = (key, value) => { document.getElementById(key).textContent = value; };
  const source = new EventSource(`/api/jobs/${id}/events`);
  function update(event) {
    const p = JSON.parse(event.data);
    status.textContent = p.status;
    status.className = `status ${p.status}`;
    show("elapsed", p.elapsed === null ? "–" : p.elapsed.toFixed(1));
    show("target-index", (p.target === null ? 0 : p.target) + 1);
    show("best-distance", p.best_distance === null ? "–" : p.best_distance);
  }
  source.addEventListener("progress", update);
  source.addEventListener("end", (event) => { update(event); source.close(); window.location.reload(); });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) window.location.reload(); };
})();
