// The design form: posts the options as JSON to /api/jobs (the API the page shares with scripts) and
// shows each refusal, the command line's one-line message, next to its field.
"use strict";
(function () {
  const form = document.getElementById("design-form");
  const button = document.getElementById("submit");
  const fileInput = document.getElementById("targets-file");
  const textFields = ["structure", "sequence", "gc_content", "gc_tolerance", "avoid", "num_solutions",
    "time_limit", "energy_parameters", "temperature"];

  function clearErrors() {
    for (const p of form.querySelectorAll(".error")) p.textContent = "";
    for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
  }

  function showError(field, message) {
    const slot = form.querySelector(`.error[data-for="${field}"]`) || form.querySelector('.error[data-for=""]');
    slot.textContent = message;
    const input = document.getElementById(field === "targets" ? "targets-file" : field);
    if (input) { input.classList.add("invalid"); input.focus(); }
  }

  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsText(file);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = {};
    for (const name of textFields) {
      const value = document.getElementById(name).value.trim();
      if (value !== "") body[name] = value;
    }
    body.allow_gu = !document.getElementById("no_gu").checked;
    if (fileInput.files.length) {
      try { body.targets = await readFile(fileInput.files[0]); }
      catch (err) { showError("targets", `cannot read the file: ${err}`); return; }
    }
    button.disabled = true;
    try {
      const response = await fetch("/api/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const reply = await response.json().catch(() => ({ detail: `the server answered ${response.status}` }));
      if (response.status === 201) { window.location.assign(`/jobs/${reply.id}`); return; }
      showError(reply.field || "", reply.detail || `the server answered ${response.status}`);
    } catch (err) {
      showError("", `cannot reach the server: ${err}`);
    } finally {
      button.disabled = false;
    }
  });
})();
