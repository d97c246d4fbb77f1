/* 部门决算公开 — small, optional enhancements. Every page works without this file.
   Loaded as an external file (the pages' Content-Security-Policy forbids inline script and eval). */
(function () {
  "use strict";

  /* Glossary terms: the definition on hover or keyboard focus. The page carries only the terms it uses,
     as JSON in <script type="application/json" id="term-data">; the link itself goes to the term's page. */
  function termTips() {
    var data = {};
    var node = document.getElementById("term-data");
    if (!node) return;
    try { data = JSON.parse(node.textContent || "{}"); } catch (e) { return; }
    var tip = document.createElement("div");
    tip.className = "term-tip";
    tip.id = "term-tip";
    tip.setAttribute("role", "tooltip");
    tip.hidden = true;
    document.body.appendChild(tip);
    var current = null;

    function show(a) {
      var entry = data[a.getAttribute("data-term")];
      if (!entry) return;
      tip.textContent = "";
      var head = document.createElement("strong");
      head.textContent = entry.term;
      tip.appendChild(head);
      tip.appendChild(document.createTextNode(entry.def));
      tip.hidden = false;
      var r = a.getBoundingClientRect();
      var left = Math.max(8, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - tip.offsetWidth - 8));
      tip.style.left = left + "px";
      tip.style.top = (r.bottom + window.scrollY + 6) + "px";
      a.setAttribute("aria-describedby", "term-tip");
      current = a;
    }
    function hide() {
      tip.hidden = true;
      if (current) current.removeAttribute("aria-describedby");
      current = null;
    }
    document.addEventListener("mouseover", function (e) {
      var a = e.target.closest && e.target.closest("a.term");
      if (a) show(a); else if (current && !tip.contains(e.target)) hide();
    });
    document.addEventListener("focusin", function (e) {
      var a = e.target.closest && e.target.closest("a.term");
      if (a) show(a); else hide();
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  }

  /* Sortable tables: header buttons sort by data-value (numbers) or text; rows without a value sort last. */
  function sortable() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var heads = table.querySelectorAll("thead th");
      Array.prototype.forEach.call(heads, function (th, index) {
        var kind = th.getAttribute("data-sort");
        if (!kind) return;
        var button = document.createElement("button");
        button.type = "button";
        while (th.firstChild) button.appendChild(th.firstChild);
        th.appendChild(button);
        button.addEventListener("click", function () {
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = key(a.cells[index], kind), y = key(b.cells[index], kind);
            if (x === null && y === null) return 0;
            if (x === null) return 1;
            if (y === null) return -1;
            var c = kind === "num" ? x - y : String(x).localeCompare(String(y), "zh-CN");
            return ascending ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
    function key(cell, kind) {
      var v = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
      if (v === "") return null;
      return kind === "num" ? parseFloat(v) : v;
    }
  }

  /* 大字 (larger text for older readers): a visible switch, remembered on this device where storage allows. */
  function textSize() {
    var button = document.getElementById("text-size");
    if (!button) return;
    var root = document.documentElement, KEY = "juesuan-large-text";
    function set(on) {
      var changed = root.classList.contains("large-text") !== on;
      root.classList.toggle("large-text", on);
      if (changed) document.dispatchEvent(new Event("textsizechange"));  // charts.js draws its text larger
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "标准字号" : "大字";
      try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* storage may be off on file:// */ }
    }
    var saved = false;
    try { saved = window.localStorage.getItem(KEY) === "1"; } catch (e) { saved = false; }
    set(saved);
    button.hidden = false;
    button.addEventListener("click", function () { set(!root.classList.contains("large-text")); });
  }

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () { textSize(); termTips(); sortable(); });
})();
