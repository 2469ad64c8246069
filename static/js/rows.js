// Add and remove discount / equipment rows. Without JavaScript the form still
// works: the server always renders a few empty rows, and empty rows are ignored.
(function () {
  "use strict";

  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) {
          el.setAttribute(attr, value.replace(/-\d+-/g, "-" + index + "-"));
        }
      });
    });
  }

  function clear(row) {
    row.querySelectorAll("input, select").forEach(function (el) {
      if (el.type === "checkbox") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else { el.value = ""; }
      el.removeAttribute("aria-invalid");
    });
    row.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    row.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
  }

  function nextIndex(list) {
    var max = -1;
    list.querySelectorAll("[data-row] [name]").forEach(function (el) {
      var match = el.name.match(/-(\d+)-/);
      if (match) { max = Math.max(max, parseInt(match[1], 10)); }
    });
    return max + 1;
  }

  document.querySelectorAll("[data-rows]").forEach(function (section) {
    var list = section.querySelector("[data-row-list]");
    var add = section.querySelector("[data-add-row]");
    var limit = parseInt(section.getAttribute("data-limit"), 10);

    function refresh() {
      var count = list.querySelectorAll("[data-row]").length;
      add.hidden = false;
      add.disabled = count >= limit;
      list.querySelectorAll("[data-remove-row]").forEach(function (button) {
        button.hidden = false;
      });
    }

    add.addEventListener("click", function () {
      var rows = list.querySelectorAll("[data-row]");
      if (rows.length >= limit || rows.length === 0) { return; }
      var row = rows[rows.length - 1].cloneNode(true);
      renumber(row, nextIndex(list));
      clear(row);
      list.appendChild(row);
      refresh();
      var first = row.querySelector("input, select");
      if (first) { first.focus(); }
    });

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-row]");
      if (!button) { return; }
      var row = button.closest("[data-row]");
      if (list.querySelectorAll("[data-row]").length > 1) { row.remove(); }
      else { clear(row); }
      refresh();
      add.focus();
    });

    refresh();
  });
})();
