"use strict";
// The Client ID field behaves like ClientTrack's: a keyboard-wedge scanner types the code and
// Enter. Each entry is sent without leaving the page, so the next scan can follow at once,
// and answered with the verdict in words, an icon and a sound.
(function () {
  const form = document.getElementById("scan"); if (!form) return;
  const ICONS = { ok: "✔", retry: "↻", stop: "✋" };
  let audio = null;
  function tone(freq, ms, type, at) { const o = audio.createOscillator(), g = audio.createGain(); o.type = type; o.frequency.value = freq; g.gain.value = 0.25; o.connect(g); g.connect(audio.destination); const t = audio.currentTime + (at || 0); o.start(t); o.stop(t + ms / 1000); }
  function sound(cls) { try { audio = audio || new AudioContext(); if (cls === "ok") { tone(880, 110, "sine"); tone(1320, 140, "sine", 0.13); } else if (cls === "retry") { tone(600, 180, "triangle"); } else { tone(220, 550, "square"); } } catch (e) {} }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("code"); const code = input.value.trim(); input.value = ""; if (!code) return;
    const body = new URLSearchParams(new FormData(form)); body.set("code", code);
    const r = await fetch(form.action, { method: "POST", body, headers: { "Accept": "application/json" } });
    const b = document.getElementById("banner");
    if (!r.ok) { b.className = "stop"; b.querySelector(".label").textContent = "Not recorded: reload the page"; return; }
    const v = await r.json();
    b.className = v.class; b.querySelector(".icon").textContent = ICONS[v.class] || "";
    b.querySelector(".label").textContent = v.label; b.querySelector(".name").textContent = v.display_name; b.querySelector(".detail").textContent = v.detail;
    sound(v.class);
    const tr = document.createElement("tr");
    for (const [t, cls] of [[new Date().toLocaleTimeString(), ""], [code, ""], [v.display_name, ""], [v.label, "v-" + v.class], [v.detail, ""]]) { const td = document.createElement("td"); td.textContent = t; if (cls) td.className = cls; tr.appendChild(td); }
    tr.appendChild(document.createElement("td"));
    document.getElementById("entries").prepend(tr);
    input.focus();
  });
})();
