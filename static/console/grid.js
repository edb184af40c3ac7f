// The records grid: a side panel with a cell's whole value, keyboard moves between cells,
// inline edits (operators), resizable columns; and the record form's parent picker.
// Everything it sends the server checks again; values are only ever set as text.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
      credentials: "same-origin",
    });
  }

  // --- The record form: a picked parent fills its key field.
  document.addEventListener("click", function (event) {
    const pick = event.target.closest("[data-pick]");
    if (!pick) return;
    const input = document.getElementById(pick.dataset.pickFor);
    if (input) {
      input.value = pick.dataset.pick;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
    }
  });

  const panel = document.getElementById("cell-panel");
  const status = document.getElementById("grid-status");
  if (!panel) return;

  function grid() {
    return document.getElementById("grid");
  }
  function headerOf(cell) {
    const table = grid();
    return table ? table.tHead.rows[0].cells[cell.cellIndex] : null;
  }
  function fieldOf(cell) {
    const th = headerOf(cell);
    return th ? th.dataset.f : "";
  }
  function isDataCell(cell) {
    return cell && cell.tagName === "TD" && !cell.classList.contains("sel") && cell.closest("#grid tbody");
  }
  function say(html) {
    status.innerHTML = html;
  }

  // --- Focus: one cell at a time is in the tab order (a roving tabindex).
  let current = null;
  function focusCell(cell) {
    if (!isDataCell(cell)) return;
    if (current && current !== cell) current.tabIndex = -1;
    current = cell;
    cell.tabIndex = 0;
    cell.focus();
  }
  function prepare() {
    const table = grid();
    if (!table || table.dataset.ready) return;
    table.dataset.ready = "1";
    const first = table.querySelector("tbody td:not(.sel)");
    table.querySelectorAll("tbody td:not(.sel)").forEach(function (cell) { cell.tabIndex = -1; });
    if (first) first.tabIndex = 0;
    table.querySelectorAll("thead .resize").forEach(wireResize);
  }
  function move(cell, rows, cols) {
    const row = cell.parentElement;
    const body = row.parentElement;
    const target = body.rows[row.sectionRowIndex + rows];
    if (!target) return;
    let index = cell.cellIndex + cols;
    const next = target.cells[index];
    if (next && !next.classList.contains("sel")) focusCell(next);
  }

  // --- The side panel.
  function openPanel(cell) {
    const table = grid();
    const row = cell.parentElement;
    const field = fieldOf(cell);
    if (!field || headerOf(cell).dataset.children) return; // a count of children: its link lists them
    const url = table.dataset.cellUrl + "?" + new URLSearchParams({ key: row.dataset.key, field: field });
    panel.hidden = false;
    panel.textContent = "Loading…";
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.text().then(function (text) { return { ok: response.ok, text: text }; }); })
      .then(function (answer) {
        if (answer.ok) {
          panel.innerHTML = answer.text;
        } else {
          panel.textContent = answer.text;
        }
      });
  }
  function closePanel() {
    panel.hidden = true;
    panel.innerHTML = "";
    if (current) current.focus();
  }
  panel.addEventListener("click", function (event) {
    if (event.target.closest("[data-panel-close]")) closePanel();
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      const text = document.getElementById(copy.dataset.copy).textContent;
      const done = function () { const note = panel.querySelector("[data-copied]"); if (note) note.hidden = false; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        const area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        area.remove();
        done();
      }
    }
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });

  // --- Inline edits.
  let editing = null; // {cell, html, input}
  function editorFor(kind, th, value) {
    let input;
    if (kind === "select") {
      input = document.createElement("select");
      ["", ...JSON.parse(th.dataset.choices || "[]")].forEach(function (choice) {
        const option = document.createElement("option");
        option.value = choice;
        option.textContent = choice || "—";
        input.appendChild(option);
      });
      input.value = value;
    } else if (kind === "toggle") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = value === "true";
    } else if (kind === "json") {
      input = document.createElement("textarea");
      input.rows = 4;
      input.value = value;
    } else {
      input = document.createElement("input");
      const moment = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z$/;
      if (kind === "date" && /^(\d{4}-\d\d-\d\d)?$/.test(value)) {
        input.type = "date";
      } else if (kind === "datetime" && (value === "" || moment.test(value))) {
        input.type = "datetime-local";
        input.step = "1";
        value = value.replace(/(\.\d+)?Z$/, "");
      } else if (kind === "number") {
        input.type = "number";
        input.step = "any";
      } else {
        input.type = "text";
      }
      input.value = value;
    }
    input.className = "cell-editor";
    input.dataset.kind = input.type === "datetime-local" ? "datetime" : kind;
    input.setAttribute("aria-label", "New value of " + th.dataset.f);
    return input;
  }
  function valueOf(input) {
    if (input.type === "checkbox") return input.checked ? "true" : "false";
    if (input.dataset.kind === "datetime" && input.value) {
      return (input.value.length === 16 ? input.value + ":00" : input.value) + "Z";
    }
    return input.value;
  }
  function startEdit(cell) {
    const table = grid();
    const th = headerOf(cell);
    if (!table.dataset.canEdit || !th || !th.dataset.editor || editing) return false;
    const row = cell.parentElement;
    const begin = function (value) {
      editing = { cell: cell, html: cell.innerHTML, title: cell.title };
      const input = editorFor(th.dataset.editor, th, value);
      cell.textContent = "";
      cell.classList.add("editing");
      cell.appendChild(input);
      input.focus();
      input.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          cancelEdit();
        } else if (event.key === "Enter" && !(input.tagName === "TEXTAREA" && event.shiftKey)) {
          event.preventDefault();
          event.stopPropagation();
          save(row, th.dataset.f, valueOf(input));
        } else {
          event.stopPropagation(); // arrows move the caret, not the focus
        }
      });
    };
    // A long or structured value is not whole in the cell: the editor starts from the stored text.
    if (th.dataset.editor === "json" || cell.title.endsWith("…") || cell.title.length >= 200) {
      const url = table.dataset.cellUrl + "?" + new URLSearchParams({ key: row.dataset.key, field: th.dataset.f, raw: "1" });
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(begin);
    } else {
      begin(cell.title || "");
    }
    return true;
  }
  function cancelEdit() {
    if (!editing) return;
    const cell = editing.cell;
    cell.innerHTML = editing.html;
    cell.title = editing.title;
    cell.classList.remove("editing", "has-error");
    editing = null;
    focusCell(cell);
  }
  function save(row, field, value) {
    const table = grid();
    const index = editing.cell.cellIndex;
    say("");
    post(table.dataset.updateUrl, { key: row.dataset.key, field: field, value: value, loaded_updated_at: row.dataset.version })
      .then(function (response) { return response.text().then(function (text) { return { status: response.status, text: text }; }); })
      .then(function (answer) {
        if (answer.status === 200) {
          const holder = document.createElement("tbody");
          holder.innerHTML = answer.text.trim();
          const fresh = holder.querySelector("tr");
          fresh.querySelectorAll("td:not(.sel)").forEach(function (cell) { cell.tabIndex = -1; });
          row.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
          editing = null;
          say('<div class="message success" role="status">Saved ' + field.replace(/[<>&"]/g, "") + ".</div>");
          focusCell(fresh.cells[index]);
        } else {
          editing.cell.classList.add("has-error");
          say(answer.text);
        }
      });
  }

  // --- Resizing columns; the widths are kept for this person.
  function wireResize(handle) {
    handle.addEventListener("mousedown", function (event) {
      event.preventDefault();
      const table = grid();
      const th = handle.parentElement;
      const col = table.querySelector("colgroup").children[th.cellIndex];
      const startX = event.clientX;
      const startWidth = col.getBoundingClientRect().width || th.offsetWidth;
      const startTable = table.offsetWidth;
      function moved(e) {
        const width = Math.max(48, Math.min(800, Math.round(startWidth + e.clientX - startX)));
        col.style.width = width + "px";
        table.style.width = startTable + (width - startWidth) + "px";
      }
      function released() {
        document.removeEventListener("mousemove", moved);
        document.removeEventListener("mouseup", released);
        const widths = { part: "widths" };
        table.tHead.rows[0].querySelectorAll("th[data-f]").forEach(function (header) {
          const column = table.querySelector("colgroup").children[header.cellIndex];
          widths["width-" + header.dataset.f] = String(Math.round(parseFloat(column.style.width) || header.offsetWidth));
        });
        post(table.dataset.prefsUrl, widths);
      }
      document.addEventListener("mousemove", moved);
      document.addEventListener("mouseup", released);
    });
  }

  // --- Events on the grid (delegated: htmx replaces the table when paging or filtering).
  document.addEventListener("click", function (event) {
    const cell = event.target.closest("td");
    if (!isDataCell(cell) || cell.classList.contains("editing")) return;
    // A file's thumbnail or name shows it in the panel (which links to it); a modified click still opens it.
    const fileLink = event.target.closest("a.file-link");
    if (fileLink && !(event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0)) {
      event.preventDefault();
    } else if (event.target.closest("a, input, button, select, textarea")) {
      return;
    }
    focusCell(cell);
    openPanel(cell);
  });
  document.addEventListener("dblclick", function (event) {
    const cell = event.target.closest("td");
    if (!isDataCell(cell) || cell.classList.contains("editing")) return;
    if (event.target.closest("a, input")) return;
    focusCell(cell);
    startEdit(cell);
  });
  document.addEventListener("keydown", function (event) {
    const cell = event.target.closest ? event.target.closest("td") : null;
    if (!isDataCell(cell) || event.target !== cell) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      event.preventDefault();
      move(cell, moves[event.key][0], moves[event.key][1]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!startEdit(cell)) openPanel(cell);
    } else if (event.key === " ") {
      event.preventDefault();
      openPanel(cell);
    } else if (event.key === "Escape") {
      closePanel();
    }
  });
  prepare();
  document.body.addEventListener("htmx:afterSwap", prepare);
})();
