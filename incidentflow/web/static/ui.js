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

  // The editor's live side: the graph follows every keystroke (or says why it cannot),
  // and the field reference follows the cursor. Debounced; a late answer never
  // replaces a newer one.
  var liveSide = document.getElementById("live-side"), source = document.getElementById("source");
  if (liveSide && source) {
    var sent = 0, shown = 0, timer = null, lastKey = "";
    var refresh = function () {
      var line = source.value.slice(0, source.selectionStart).split("\n").length;
      var key = line + "\u0000" + source.value;
      if (key === lastKey) return;
      lastKey = key;
      var body = new FormData();
      var token = source.form.querySelector("input[name=csrf_token]");
      body.append("csrf_token", token ? token.value : "");
      body.append("source", source.value);
      body.append("line", String(line));
      var ticket = ++sent;
      fetch(liveSide.getAttribute("data-draft-url"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
        .then(function (html) {
          if (html === null || ticket < shown) return;
          shown = ticket;
          liveSide.innerHTML = html;
        })
        .catch(function () { /* offline for a moment: the next keystroke tries again */ });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    ["input", "keyup", "click"].forEach(function (name) { source.addEventListener(name, later); });
  }

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
  function setupZoom(root) {
  root.querySelectorAll("[data-zoom-tools]").forEach(function (tools) {
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
  }
  setupZoom(document);

  // Panels (a node, the palette, adding a node): opening one swaps the page's <main>
  // in place instead of a full reload, so focus goes into the panel, not to the top;
  // Esc closes it and puts focus back on the node it was about. Without this script
  // the links and forms work as plain pages.
  var opener = null;  // what to focus when the panel closes

  function focusPanel() {
    var panel = document.querySelector("[data-panel]");
    if (!panel) return;
    // A rejected form: its error first, then the first field marked invalid.
    var target = panel.querySelector("[data-form-error]") || document.querySelector("main [data-form-error]") ||
      panel.querySelector("[aria-invalid='true']") || panel;
    target.focus();
    // On a phone the panel is a sheet over the lower part of the screen: bring the
    // graph to the upper part, so the node stays in sight above it.
    var graph = document.querySelector(".canvas-layout .graph-area");
    if (graph && window.innerWidth < 760) graph.scrollIntoView({ block: "start" });
  }

  function nodeLink(name) {
    var found = null;
    document.querySelectorAll("g.node[data-node]").forEach(function (g) {
      if (g.getAttribute("data-node") === name) found = g.closest("a");
    });
    return found;
  }

  function openInPlace(url, push) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var main = next.querySelector("main"), current = document.querySelector("main");
        // Not a canvas page (signed out meanwhile, an error page): show it as a page.
        if (!main || !current || !next.querySelector(".canvas-layout")) throw new Error("not a panel");
        current.innerHTML = main.innerHTML;
        document.title = next.title;
        if (push) history.pushState({ panel: true }, "", url);
        setupZoom(current);
      });
  }

  function closePanel() {
    var panel = document.querySelector("[data-panel]");
    var close = panel && panel.querySelector("[data-panel-close]");
    if (!close) return;
    var node = panel.getAttribute("data-panel-node");
    openInPlace(close.getAttribute("href"), true).then(function () {
      var back = (node && nodeLink(node)) || (opener && document.getElementById(opener)) || document.getElementById("add-node");
      if (back) back.focus();
    }, function () { window.location.href = close.getAttribute("href"); });
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    var link = event.target.closest("a.node-link, a[data-panel-link], a[data-panel-close]");
    if (!link || !document.querySelector(".canvas-layout")) return;
    event.preventDefault();
    if (link.hasAttribute("data-panel-close")) { closePanel(); return; }
    opener = link.id || null;
    var href = link.getAttribute("href");
    openInPlace(href, true).then(focusPanel, function () { window.location.href = href; });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !document.querySelector("[data-panel]")) return;
    if (event.target.closest && event.target.closest("textarea[data-tab-indent]")) return;
    event.preventDefault();
    closePanel();
  });

  window.addEventListener("popstate", function () {
    if (!document.querySelector(".canvas-layout")) return;
    openInPlace(window.location.href, false).then(focusPanel, function () { window.location.reload(); });
  });

  focusPanel();  // a panel opened by a full page load (a form's answer) gets focus too
  var loneError = !document.querySelector("[data-panel]") && document.querySelector("main [data-form-error]");
  if (loneError) loneError.focus();

  // Adding a node: another integration has other pickers (severities...): preview again.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "node-integration") return;
    var preview = event.target.form && event.target.form.querySelector("button[value=preview]");
    if (preview) preview.click();
  });

  // The palette's search filters as one types (the form asks the server without script).
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-palette-search")) return;
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    document.querySelectorAll("[data-palette-item]").forEach(function (item) {
      var text = item.getAttribute("data-search") || "";
      var match = words.every(function (word) { return text.indexOf(word) >= 0; });
      item.hidden = !match;
      if (match) shown += 1;
    });
    document.querySelectorAll("[data-palette-group]").forEach(function (group) {
      group.hidden = !group.querySelector("[data-palette-item]:not([hidden])");
    });
    var count = document.getElementById("palette-count");
    if (count) count.textContent = shown + (shown === 1 ? " node type" : " node types");
    var empty = document.querySelector("[data-palette-empty]");
    if (empty) empty.hidden = shown > 0;
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
