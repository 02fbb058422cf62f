// Deskside's own small script. Pages work without it; it only helps with focus.
"use strict";

// A form that comes back with errors moves focus to its error summary, so keyboard and
// screen reader users meet what went wrong first. Deferred scripts run once the page is
// parsed and before autofocus is applied, so this wins over a field's autofocus.
(function focusErrorSummary() {
  const summary = document.querySelector("[data-error-summary]");
  if (summary instanceof HTMLElement) {
    summary.focus();
  }
})();
