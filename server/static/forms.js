"use strict";
// Forms that change something hard to undo carry data-confirm="question": the question is
// asked before the form is sent. A script file rather than an inline handler, so the pages
// keep a Content-Security-Policy without 'unsafe-inline'.
document.addEventListener("submit", (ev) => {
  const form = ev.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }
}, true);
// Each table cell carries its column's heading, which a phone shows in front of the value
// when the table is laid out as one card per row (staff.css). Rows added later by a page's
// own script are labelled as they arrive.
function labelCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => {
    const words = th.cloneNode(true);
    for (const hidden of words.querySelectorAll(".visually-hidden")) hidden.remove();
    return words.textContent.trim();
  });
  for (const tr of table.querySelectorAll("tbody tr")) {
    [...tr.children].forEach((td, i) => { if (heads[i] && !td.hasAttribute("data-label")) td.setAttribute("data-label", heads[i]); });
  }
}
// On a phone the menu starts folded under its "Menu" button, so the page itself is in view.
const phone = window.matchMedia("(max-width: 40rem)");
for (const menu of document.querySelectorAll("details.menu")) {
  if (phone.matches) menu.open = false;
  // A window made narrow folds the menu; made wide, it opens it again.
  phone.addEventListener("change", (e) => { menu.open = !e.matches; });
}
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table")) {
    labelCells(table);
    new MutationObserver(() => labelCells(table)).observe(table, { childList: true, subtree: true });
  }
});
