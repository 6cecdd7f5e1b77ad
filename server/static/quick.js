"use strict";
// Quick Services: Select all (everyone listed who has not had the service as often as a day
// allows) and Select none, and a count of who is ticked. The buttons stay hidden without
// script, where ticking by hand still works.
(function () {
  const form = document.getElementById("quick-save"); if (!form) return;
  const tools = form.querySelector(".quick-tools"); if (!tools) return;
  const boxes = () => [...form.querySelectorAll("input[name=client]")];
  const count = document.getElementById("ticked");
  function show() {
    const n = boxes().filter((b) => b.checked).length;
    count.textContent = n === 1 ? "1 client ticked" : n + " clients ticked";
  }
  document.getElementById("select-all").addEventListener("click", () => {
    for (const b of boxes()) { if (!b.closest("label").dataset.full) b.checked = true; }
    show();
  });
  document.getElementById("select-none").addEventListener("click", () => {
    for (const b of boxes()) b.checked = false;
    show();
  });
  form.addEventListener("change", show);
  tools.hidden = false;
  show();
})();
