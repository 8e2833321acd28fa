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

  // Move focus to the error summary (or fresh results) so keyboard and screen-reader users hear what changed.
  function focusFirst(root) {
    var target = (root || document).querySelector("[data-autofocus]");
    if (target) {
      if (!target.hasAttribute("tabindex")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", function () { focusFirst(document); });
  document.addEventListener("htmx:after:swap", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    focusFirst(ctx && ctx.target instanceof Element ? ctx.target : document);
  });
})();
