// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // htmx 4 does not inherit hx-headers implicitly, so the CSRF token is added to every htmx request here.
  document.addEventListener("htmx:config:request", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && evt.detail && evt.detail.ctx) {
      evt.detail.ctx.request.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Move focus to the error summary so keyboard and screen-reader users hear what went wrong.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) {
      summary.focus();
    }
  });
})();
