"use strict";
// The Client ID field behaves like ClientTrack's: a keyboard-wedge scanner types the code and
// Enter. Each entry is sent without leaving the page, so the next scan can follow at once,
// and answered with the verdict in words, an icon and a sound. Its row arrives with its ✕,
// and a ✕ deletes without a reload, so the field keeps the focus for the next scan.
(function () {
  // The icons ship with the page, so a desk without an emoji font shows them too.
  const SVG = (body) => '<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false">' + body + "</svg>";
  const ICONS = {
    ok: SVG('<path d="M4 12.5l5 5L20 6.5" fill="none" stroke="currentColor" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>'),
    retry: SVG('<path d="M19 12a7 7 0 1 1-2.05-4.95" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"/><path d="M20 3.5v5h-5" fill="none" stroke="currentColor" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>'),
    stop: SVG('<path d="M8 2h8l6 6v8l-6 6H8l-6-6V8z" fill="currentColor"/><path d="M7 12h10" stroke="#fff" stroke-width="3" stroke-linecap="round"/>'),
  };
  const entries = document.getElementById("entries");
  const csrf = document.querySelector("input[name=csrf]");
  let audio = null;
  function tone(freq, ms, type, at) { const o = audio.createOscillator(), g = audio.createGain(); o.type = type; o.frequency.value = freq; g.gain.value = 0.25; o.connect(g); g.connect(audio.destination); const t = audio.currentTime + (at || 0); o.start(t); o.stop(t + ms / 1000); }
  function sound(cls) { try { audio = audio || new AudioContext(); if (cls === "ok") { tone(880, 110, "sine"); tone(1320, 140, "sine", 0.13); } else if (cls === "retry") { tone(600, 180, "triangle"); } else { tone(220, 550, "square"); } } catch (e) {} }
  function bump(key, by) {
    let span = document.querySelector('#counts [data-count="' + key + '"]');
    if (!span && by > 0 && key !== "all") {
      // A verdict the batch had none of yet: its count appears.
      const a = document.createElement("a"); a.href = "?show=" + key; a.dataset.new = "1";
      span = document.createElement("span"); span.dataset.count = key; span.textContent = "0";
      a.append(document.createTextNode((labels[key] || key) + ": "), span);
      document.getElementById("counts").append(" ", a);
    }
    if (span) span.textContent = String(Number(span.textContent) + by);
  }
  const labels = {};
  async function remove(form, row) {
    const r = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), headers: { "Accept": "application/json" } });
    if (!r.ok) { form.submit(); return; }
    row.classList.add("deleted");
    const verdict = row.children[3]; verdict.textContent = verdict.textContent + " (deleted)";
    bump(row.dataset.verdict, -1); bump("deleted", 1);
    form.remove();
    const field = document.getElementById("code"); if (field) field.focus();
  }
  if (entries) entries.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("delete") || ev.defaultPrevented) return;
    ev.preventDefault();
    remove(form, form.closest("tr"));
  });
  const form = document.getElementById("scan"); if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("code"); const code = input.value.trim(); input.value = ""; if (!code) return;
    const body = new URLSearchParams(new FormData(form)); body.set("code", code);
    const r = await fetch(form.action, { method: "POST", body, headers: { "Accept": "application/json" } });
    const b = document.getElementById("banner");
    if (!r.ok) { b.className = "stop"; b.querySelector(".label").textContent = "Not recorded: reload the page"; return; }
    const v = await r.json();
    labels[v.verdict] = v.label;
    b.className = v.class; const icon = b.querySelector(".icon"); icon.innerHTML = ICONS[v.class] || ""; icon.dataset.icon = v.class;
    b.querySelector(".label").textContent = v.label; b.querySelector(".name").textContent = v.display_name; b.querySelector(".detail").textContent = v.detail;
    // Alerts on the client, beside the verdict (they do not change it).
    const alerts = b.querySelector(".alerts"); alerts.replaceChildren();
    for (const a of v.alerts || []) { const p = document.createElement("p"); p.className = "alert"; p.textContent = "⚑ " + a.kind + ": " + a.text; alerts.appendChild(p); }
    sound(v.class);
    const tr = document.createElement("tr"); tr.dataset.verdict = v.verdict;
    const cells = [v.time, code, null, v.label, v.detail];
    if (entries.dataset.beds) cells.push(v.bed || "");
    cells.forEach((t, i) => {
      const td = document.createElement("td");
      if (i === 2 && v.client_id) { const a = document.createElement("a"); a.href = "/clients/" + v.client_id; a.textContent = v.display_name; td.appendChild(a); }
      else if (t != null) td.textContent = t;
      if (i === 3) td.className = "v-" + v.class;
      tr.appendChild(td);
    });
    const del = document.createElement("form"); del.method = "post"; del.className = "delete";
    del.action = "/batches/" + entries.dataset.batch + "/entries/" + v.uuid + "/delete";
    del.dataset.confirm = "Delete this entry (" + code + ")? It will not be posted.";
    const token = document.createElement("input"); token.type = "hidden"; token.name = "csrf"; token.value = csrf.value;
    const x = document.createElement("button"); x.type = "submit"; x.className = "plain"; x.textContent = "✕"; x.setAttribute("aria-label", "Delete entry " + code);
    del.append(token, x);
    const last = document.createElement("td"); last.appendChild(del); tr.appendChild(last);
    const show = entries.dataset.show;
    if (show === "all" || show === v.verdict || (show === "flagged" && v.class !== "ok")) entries.prepend(tr);
    bump("all", 1); bump(v.verdict, 1);
    if (!camera || !camera.on()) input.focus();
  });
  // Scan with camera: each code read takes the typed code's path.
  const button = document.getElementById("camera");
  const camera = button && window.ScanlineCamera && window.ScanlineCamera.attach({
    button, video: document.getElementById("camera-view"), status: document.getElementById("camera-state"),
    reader: "/static/reader.wasm",
    onCode: (code) => { document.getElementById("code").value = code; form.requestSubmit(); },
  });
})();
