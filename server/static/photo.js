"use strict";
(function () {
  const box = document.getElementById("camera");
  const url = "/clients/" + box.dataset.client + "/photo";
  const status = document.getElementById("photo-status");
  const video = document.getElementById("preview"), canvas = document.getElementById("shot");
  const show = (id, on) => { document.getElementById(id).hidden = !on; };
  async function send(blob) {
    status.textContent = "Saving…";
    const r = await fetch(url, { method: "POST", body: blob, headers: { "X-CSRF-Token": box.dataset.csrf, "Content-Type": blob.type || "application/octet-stream" } });
    const j = await r.json().catch(() => ({}));
    if (r.ok) { status.textContent = "Saved."; location.reload(); } else { status.textContent = j.error || "Not saved."; }
  }
  document.getElementById("start-camera").onclick = async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      video.srcObject = stream; show("preview", true); show("take", true); show("start-camera", false);
    } catch (e) { status.textContent = "The camera could not be started: " + e.name + ". Upload a picture instead."; }
  };
  document.getElementById("take").onclick = () => {
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    show("shot", true); show("preview", false); show("take", false); show("use", true); show("retake", true);
    status.textContent = "Check the picture: Use this image, or Retake.";
  };
  document.getElementById("retake").onclick = () => {
    show("shot", false); show("preview", true); show("take", true); show("use", false); show("retake", false);
    status.textContent = "";
  };
  document.getElementById("use").onclick = () => canvas.toBlob((b) => send(b), "image/jpeg", 0.9);
  document.getElementById("photo-file").onchange = (ev) => { const f = ev.target.files[0]; if (f) send(f); };
})();
