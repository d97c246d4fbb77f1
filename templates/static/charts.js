/* 部门决算公开 — draws the charts. Every chart's data is also a table on the page, so nothing is lost without it.
   Each spec is JSON in <script type="application/json" class="chart-spec">, inline because file:// forbids
   fetching; the runtime (assets/vendor/vega-runtime.js, loaded just before this file) sets window.vegaEmbed.
   The pages' Content-Security-Policy allows no eval and no inline style, hence the options:
   ast: true      Vega evaluates expressions with its interpreter instead of new Function();
   defaultStyle   false: vega-embed would add a <style> element (the look is in site.css instead);
   tooltip        vega-tooltip without its <style> element (styled in site.css), escaping what it shows,
                  placed by the mark rather than the pointer so it stays on a phone's screen;
   actions        false: no menu, no "open in editor" (that would post the spec to another site);
   renderer       "svg": sharp at any zoom and in print, and each mark is an element a test can find. */
(function () {
  "use strict";
  var OPTIONS = {
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true, theme: "custom", anchor: "mark" }
  };

  function draw(node) {
    var canvas = document.getElementById(node.getAttribute("data-canvas"));
    if (!canvas) return;
    var spec;
    try {
      spec = JSON.parse(node.textContent || "");
    } catch (e) {
      canvas.setAttribute("data-state", "failed");
      console.error("图表数据无法读取：" + canvas.id);
      return;
    }
    canvas.setAttribute("data-state", "drawing");
    window.vegaEmbed(canvas, spec, OPTIONS).then(function (result) {
      // The SVG is named by its figure's description (set in the spec); the figure's heading titles it.
      canvas.setAttribute("data-state", "drawn");
      return result;
    }, function (error) {
      canvas.setAttribute("data-state", "failed");
      console.error("图表未能绘制：" + canvas.id + "：" + error);
    });
  }

  function drawAll() {
    if (typeof window.vegaEmbed !== "function") return;
    var nodes = document.querySelectorAll("script.chart-spec");
    Array.prototype.forEach.call(nodes, draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
}());
