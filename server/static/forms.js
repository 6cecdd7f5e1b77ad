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
