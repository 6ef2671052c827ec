/* Jiesu: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* Large-text mode (适老化): a class on <html>, remembered in a cookie so that the server
     renders it on the next page without a flash. Without JS the button posts a form. */
  function setLarge(on) {
    document.documentElement.classList.toggle("large-text", on);
    document.cookie = "jiesu_large=" + (on ? "1" : "0") + "; path=/; max-age=31536000; SameSite=Lax";
    document.querySelectorAll("[data-large-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-large-toggle]");
    if (!button) return;
    e.preventDefault();
    setLarge(!document.documentElement.classList.contains("large-text"));
  });

  /* After htmx swaps a page in: read out its messages through the persistent live regions,
     and put the focus where the user needs it (the first error, else the main region). */
  function announce(root) {
    var polite = document.getElementById("live-polite");
    var assertive = document.getElementById("live-assertive");
    var errors = root.querySelectorAll(".form-error, .msg-error");
    var notes = root.querySelectorAll(".messages .msg-success, .messages .msg-info");
    if (assertive) assertive.textContent = Array.prototype.map.call(errors, function (n) { return n.textContent.trim(); }).join(" ");
    if (polite) polite.textContent = Array.prototype.map.call(notes, function (n) { return n.textContent.trim(); }).join(" ");
  }
  function focusAfterSwap(root) {
    var invalid = root.querySelector("[aria-invalid=true]:not(fieldset)");
    var errorBox = root.querySelector("[data-error]");
    if (invalid) { invalid.focus(); return; }
    if (errorBox) { errorBox.focus(); errorBox.scrollIntoView({ block: "center" }); return; }
    if (root.querySelector("[autofocus]")) return; /* htmx focuses it */
    var current = root.querySelector(".queue [aria-current=true]");
    if (current) { current.focus({ preventScroll: false }); return; }
    var main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }
  document.addEventListener("htmx:afterSettle", function (e) {
    var page = document.getElementById("page");
    if (!page || e.detail.target !== page) return;
    announce(page);
    focusAfterSwap(page);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var page = document.getElementById("page");
    if (!page) return;
    var first = page.querySelector("[aria-invalid=true]:not(fieldset)") || page.querySelector("[data-error]");
    if (first) first.focus();
  });

  /* Keyboard: j / k move through lists; "/" goes to the search; Ctrl+Enter sends the form;
     in forms marked data-enter-moves, Enter in a one-line field moves to the next field. */
  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return !el.disabled && el.type !== "hidden" && el.offsetParent !== null;
    });
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var form = t.closest ? t.closest("form") : null;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && form) {
      e.preventDefault();
      var primary = form.querySelector("button[type=submit].primary") || form.querySelector("button[type=submit]");
      /* A click on the button, not requestSubmit(button): htmx (boosted forms) takes the
         submitter's name=value (do=dispatch, reached=yes) from the button clicked, and drops the
         one requestSubmit passes: the server then saw a form with no action in it. */
      if (primary) primary.click();
      else if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    /* Drop-downs and check boxes too: Enter does nothing on them in a browser, and a call-taker
       who presses it there and types on would type into the drop-down's search. */
    if (e.key === "Enter" && form && form.hasAttribute("data-enter-moves") &&
        ((t.tagName === "INPUT" && ["text", "tel", "search", "number", "checkbox", ""].indexOf(t.type) >= 0) ||
         t.tagName === "SELECT")) {
      e.preventDefault();
      var list = fields(form);
      var next = list[list.indexOf(t) + 1];
      if (next) next.focus();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    if (e.key === "j" || e.key === "k") {
      var items = Array.prototype.slice.call(document.querySelectorAll(".queue .item"));
      if (!items.length) return;
      var at = items.indexOf(document.activeElement);
      if (at < 0) at = items.findIndex(function (i) { return i.getAttribute("aria-current") === "true"; });
      var to = e.key === "j" ? Math.min(at + 1, items.length - 1) : Math.max(at - 1, 0);
      if (at < 0) to = 0;
      items[to].focus();
      e.preventDefault();
    } else if (e.key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) { search.focus(); e.preventDefault(); }
    }
  });
  /* A "print" button (no inline onclick: the Content-Security-Policy forbids it). */
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-print]");
    if (button) { e.preventDefault(); window.print(); }
  });
})();

/* A button marked data-confirm asks first (what cannot be undone, outside htmx's hx-confirm:
   the public pages); "Cancel" in the dialog sends nothing. */
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) e.preventDefault();
});

/* Forms marked data-once: one submission per page (the server's idempotency key covers the rest). */
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (!form.hasAttribute || !form.hasAttribute("data-once")) return;
  if (form.dataset.sent) { e.preventDefault(); return; }
  form.dataset.sent = "1";
  setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  }, 0);
});

/* Triage suggestions (desk intake): "use the suggested area and category" fills the selects. */
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("[data-triage-fill]");
  if (!button) return;
  var form = button.closest("form") || document.querySelector("form.intake");
  var pairs = [["area", button.getAttribute("data-area")], ["category", button.getAttribute("data-category")]];
  pairs.forEach(function (p) {
    if (!p[1]) return;
    var select = (form || document).querySelector("select[name=" + p[0] + "]");
    if (select && select.querySelector("option[value='" + p[1] + "']")) select.value = p[1];
  });
});
