// Finger signature on a canvas (signature_pad), sent as vector strokes in the
// form's hidden "signature" field. Without JavaScript the pad stays hidden and
// the typed-name field is the signature.
(function () {
  "use strict";
  if (typeof SignaturePad === "undefined") { return; }

  function round(value) { return Math.round(value * 10) / 10; }

  function clamp(value, max) { return Math.min(Math.max(value, 0), max); }

  function toStrokes(pad, width, height) {
    return pad.toData().map(function (group) {
      return group.points.map(function (p) {
        return [round(clamp(p.x, width)), round(clamp(p.y, height))];
      });
    });
  }

  function fromStrokes(strokes) {
    return strokes.map(function (stroke) {
      return {
        penColor: "#1b1f24", dotSize: 0, minWidth: 0.8, maxWidth: 2.8,
        velocityFilterWeight: 0.7, compositeOperation: "source-over",
        points: stroke.map(function (p) { return { x: p[0], y: p[1], pressure: 0.5, time: 0 }; })
      };
    });
  }

  document.querySelectorAll("[data-signature-pad]").forEach(function (box) {
    var form = box.closest("form");
    var field = form.querySelector("input[name=signature]");
    var canvas = box.querySelector("canvas");
    box.hidden = false;

    var width = canvas.offsetWidth;
    var height = canvas.offsetHeight;
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.getContext("2d").scale(ratio, ratio);

    var pad = new SignaturePad(canvas, { penColor: "#1b1f24", minWidth: 0.8, maxWidth: 2.8 });

    function store() {
      field.value = pad.isEmpty() ? "" : JSON.stringify({
        width: width, height: height, strokes: toStrokes(pad, width, height)
      });
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // A signature kept from a rejected submission or a reload is drawn again.
    if (field.value) {
      try { pad.fromData(fromStrokes(JSON.parse(field.value).strokes)); } catch (e) { field.value = ""; }
    }

    pad.addEventListener("endStroke", store);
    box.querySelector("[data-clear]").addEventListener("click", function () { pad.clear(); store(); });
    box.querySelector("[data-undo]").addEventListener("click", function () {
      var data = pad.toData();
      data.pop();
      pad.fromData(data);
      store();
    });
    form.addEventListener("submit", store);
    box.signaturePad = pad;
  });
})();
