// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    var status = document.getElementById("copy-status");
    var done = function (ok) {
      if (status) status.textContent = ok ? "Copied to the clipboard." : "Select the URL and copy it (Ctrl+C).";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { done(true); }, function () { legacyCopy(field, done); });
    } else {
      legacyCopy(field, done);
    }
  });

  function legacyCopy(field, done) {
    field.focus();
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }

  // Tab in the YAML editor indents; Esc releases the next Tab so keyboard users can leave.
  document.querySelectorAll("textarea[data-tab-indent]").forEach(function (area) {
    var escaped = false;
    area.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { escaped = true; return; }
      if (event.key !== "Tab" || escaped || event.ctrlKey || event.altKey || event.metaKey) { escaped = false; return; }
      event.preventDefault();
      var start = area.selectionStart, end = area.selectionEnd, text = area.value;
      if (event.shiftKey) {
        var lineStart = text.lastIndexOf("\n", start - 1) + 1;
        if (text.substr(lineStart, 2) === "  ") {
          area.setRangeText("", lineStart, lineStart + 2, "preserve");
        }
      } else {
        area.setRangeText("  ", start, end, "end");
      }
    });
  });

  // "line N" links in the problem list select that line in the editor.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".goto-line");
    var area = document.getElementById("source");
    if (!link || !area) return;
    event.preventDefault();
    var line = parseInt(link.getAttribute("data-line"), 10), lines = area.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1] || "").length);
    var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (line - 4) * lineHeight);
  });

  // Graph zoom: -, Fit, Reset zoom (to the opening zoom), +; starts at 75-100 % and scrolls. Without JS the graph
  // fits the page (no inline style: the Content-Security-Policy refuses it).
  document.querySelectorAll("[data-zoom-tools]").forEach(function (tools) {
    var scroller = document.getElementById(tools.getAttribute("data-zoom-tools"));
    var svg = scroller && scroller.querySelector("svg");
    if (!svg) return;
    var base = parseFloat(svg.getAttribute("width")), label = tools.querySelector("[data-zoom-level]");
    var fit = function () { return Math.min(1, (scroller.clientWidth - 2) / base); };
    var zoom = Math.max(0.75, fit()), opening = zoom;
    var apply = function (next) {
      zoom = Math.min(1.5, Math.max(0.25, next));
      svg.style.width = Math.round(base * zoom) + "px";
      svg.style.minWidth = "0"; svg.style.maxWidth = "none";
      if (label) label.textContent = Math.round(zoom * 100) + " %";
    };
    tools.hidden = false;
    // On a phone the graph is a keyhole: show the nodes as a list as well.
    var list = document.querySelector("details.node-list");
    if (list && window.innerWidth < 640) list.open = true;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("[data-zoom]");
      if (!button) return;
      var how = button.getAttribute("data-zoom");
      apply(how === "in" ? zoom * 1.25 : how === "out" ? zoom / 1.25 : how === "fit" ? fit() : opening);
    });
    apply(zoom);
    // On a node's page, bring the selected node into view inside the graph.
    var selected = svg.querySelector("g.node.selected");
    if (selected) {
      var box = selected.getBoundingClientRect(), frame = scroller.getBoundingClientRect();
      scroller.scrollLeft += box.left - frame.left - (frame.width - box.width) / 2;
      scroller.scrollTop += box.top - frame.top - (frame.height - box.height) / 2;
    }
  });

  // Live pages (a run in progress): fetch the page again and swap <main> until it settles.
  var every = parseFloat(document.body.getAttribute("data-live-refresh") || "0");
  if (every > 0) {
    var timer = setInterval(function () {
      if (document.activeElement && document.activeElement.closest("main form")) return; // do not disturb typing
      if (document.querySelector("main input[type=checkbox]:checked")) return; // nor a selection of runs
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          var next = new DOMParser().parseFromString(html, "text/html");
          var main = next.querySelector("main"), current = document.querySelector("main");
          if (main && current) current.innerHTML = main.innerHTML;
          if (!next.body.hasAttribute("data-live-refresh")) clearInterval(timer);
        })
        .catch(function () { /* transient: try again next tick */ });
    }, every * 1000);
  }

  // Integration forms: once a base URL (data-destination = the stored one) moves, the
  // stored key will not follow it, so the key fields become required.
  document.addEventListener("input", function (event) {
    var form = event.target.closest("form");
    if (!form || !event.target.hasAttribute("data-destination")) return;
    var same = function (a, b) { return a.trim().replace(/\/+$/, "") === b.trim().replace(/\/+$/, ""); };
    var moved = Array.prototype.some.call(form.querySelectorAll("[data-destination]"), function (input) {
      return !same(input.value || input.placeholder, input.getAttribute("data-destination"));
    });
    form.querySelectorAll("[data-needed-when-moved]").forEach(function (key) { key.required = moved; });
  });
})();
