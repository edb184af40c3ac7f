// The file browser's uploads: buttons, drag and drop of files and whole folders, a
// progress bar per file, large files sent in parts. Loaded by the storage pages only;
// everything else on those pages works without it. Names are only ever set as text.
(function () {
  "use strict";

  // "Select everything on this page", also after htmx swaps the listing (for viewers too).
  function wireSelectAll() {
    const all = document.getElementById("select-all");
    if (!all || all.dataset.wired) return;
    all.dataset.wired = "1";
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("#selection tbody input[type=checkbox]").forEach(function (box) { box.checked = all.checked; });
    });
  }
  wireSelectAll();
  document.body.addEventListener("htmx:afterSwap", wireSelectAll);

  const section = document.getElementById("storage-upload");
  if (!section) return;

  const folder = decodeURIComponent(section.dataset.folder || "");
  const maxBytes = Number(section.dataset.maxBytes);
  const maxText = section.dataset.maxText || "";
  const urls = {
    check: section.dataset.checkUrl,
    put: section.dataset.putUrl,
    start: section.dataset.startUrl,
    part: section.dataset.partUrl,
    complete: section.dataset.completeUrl,
    abort: section.dataset.abortUrl,
  };
  // One request sends a file of up to one part; larger ones go in parts (the server says how big).
  const SINGLE_REQUEST_BYTES = Number(section.dataset.partBytes);
  const PARALLEL_FILES = 3;
  const CHECK_BATCH = 1000;
  const list = document.getElementById("upload-list");
  const overlay = document.getElementById("drop-overlay");

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function withQuery(url, params) {
    return url + "?" + new URLSearchParams(params).toString();
  }

  // POST a body (a Blob, or an object sent as JSON); resolves to {status, data}.
  function post(url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      let payload = body;
      if (!(body instanceof Blob)) {
        xhr.setRequestHeader("Content-Type", "application/json");
        payload = JSON.stringify(body);
      } else {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) { onProgress(event.loaded); });
      }
      xhr.addEventListener("load", function () {
        let data = {};
        try { data = JSON.parse(xhr.responseText || "{}"); } catch (error) { data = {}; }
        resolve({ status: xhr.status, data: data });
      });
      xhr.addEventListener("error", function () { reject(new Error("the network connection failed")); });
      xhr.addEventListener("abort", function () { reject(new Error("the upload was stopped")); });
      xhr.send(payload);
    });
  }

  async function postOk(url, body, onProgress) {
    const answer = await post(url, body, onProgress);
    if (answer.status < 200 || answer.status >= 300) {
      throw new Error(answer.data.error || "the console answered " + answer.status);
    }
    return answer.data;
  }

  function formatSize(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let size = bytes;
    let unit = 0;
    while (size >= 1024 && unit < units.length - 1) { size /= 1024; unit += 1; }
    return unit === 0 ? size + " bytes" : size.toFixed(1) + " " + units[unit];
  }

  // One line of the upload list: the name, a progress bar, a status word.
  function Row(item) {
    this.size = item.file.size;
    this.li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = item.key.slice(folder.length);
    this.bar = document.createElement("progress");
    this.bar.max = Math.max(this.size, 1);
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", "Upload of " + item.key.slice(folder.length));
    this.status = document.createElement("span");
    this.status.className = "upload-status";
    this.status.textContent = "waiting";
    this.li.append(name, this.bar, this.status);
    list.append(this.li);
  }
  Row.prototype.progress = function (bytes) {
    this.bar.value = Math.min(bytes, this.size);
    this.status.textContent = Math.floor((100 * bytes) / Math.max(this.size, 1)) + "% of " + formatSize(this.size);
  };
  Row.prototype.finish = function (text) {
    this.bar.value = this.bar.max;
    this.status.textContent = text;
    this.li.classList.add("upload-done");
  };
  Row.prototype.fail = function (text) {
    this.status.textContent = "failed: " + text;
    this.li.classList.add("upload-failed");
  };

  async function uploadInParts(item, overwrite, row) {
    const file = item.file;
    const started = await postOk(urls.start, { key: item.key, size: file.size, type: file.type, overwrite: overwrite });
    try {
      for (let number = 1; number <= started.parts; number += 1) {
        const offset = (number - 1) * started.part_bytes;
        const part = file.slice(offset, Math.min(offset + started.part_bytes, file.size));
        await postOk(withQuery(urls.part, { ticket: started.ticket, number: number }), part, function (loaded) {
          row.progress(offset + loaded);
        });
      }
      await postOk(urls.complete, { ticket: started.ticket });
    } catch (error) {
      post(urls.abort, { ticket: started.ticket }).catch(function () { return null; });
      throw error;
    }
  }

  async function uploadOne(item, overwrite) {
    const row = new Row(item);
    if (item.file.size > maxBytes) {
      row.fail("it is " + formatSize(item.file.size) + "; files of at most " + maxText + " can be uploaded here");
      return false;
    }
    try {
      if (item.file.size <= SINGLE_REQUEST_BYTES) {
        const params = { key: item.key, type: item.file.type, overwrite: overwrite ? "1" : "0" };
        await postOk(withQuery(urls.put, params), item.file, function (loaded) { row.progress(loaded); });
      } else {
        await uploadInParts(item, overwrite, row);
      }
      row.finish(overwrite ? "replaced" : "uploaded");
      return true;
    } catch (error) {
      row.fail(error.message);
      return false;
    }
  }

  async function existingKeys(items) {
    const found = new Set();
    for (let start = 0; start < items.length; start += CHECK_BATCH) {
      const keys = items.slice(start, start + CHECK_BATCH).map(function (item) { return item.key; });
      const data = await postOk(urls.check, { keys: keys });
      data.existing.forEach(function (key) { found.add(key); });
    }
    return found;
  }

  // Resolves to "overwrite", "skip" or "cancel".
  function askOverwrite(names) {
    const dialog = document.getElementById("overwrite-dialog");
    const text = document.getElementById("overwrite-text");
    const shown = document.getElementById("overwrite-names");
    text.textContent = names.length === 1
      ? "A file with this name exists already in this folder:"
      : names.length + " files with these names exist already:";
    shown.replaceChildren();
    names.slice(0, 10).forEach(function (name) {
      const li = document.createElement("li");
      li.textContent = name.slice(folder.length);
      shown.append(li);
    });
    if (names.length > 10) {
      const li = document.createElement("li");
      li.textContent = "and " + (names.length - 10) + " more";
      shown.append(li);
    }
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue || "cancel"); }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  function summary(text, failed) {
    const li = document.createElement("li");
    li.className = "upload-summary " + (failed ? "upload-failed" : "upload-done");
    li.setAttribute("role", failed ? "alert" : "status");
    li.textContent = text;
    list.prepend(li);
  }

  function refreshListing() {
    if (window.htmx) {
      window.htmx.ajax("GET", window.location.href, { target: "#listing", swap: "innerHTML" });
    }
  }

  async function uploadAll(items) {
    if (!items.length) return;
    let overwrite = false;
    let existing;
    try {
      existing = await existingKeys(items);
    } catch (error) {
      summary("Nothing was uploaded: " + error.message, true);
      return;
    }
    if (existing.size) {
      const choice = await askOverwrite(Array.from(existing));
      if (choice === "cancel") return;
      if (choice === "skip") items = items.filter(function (item) { return !existing.has(item.key); });
      overwrite = choice === "overwrite";
    }
    if (!items.length) {
      summary("Nothing uploaded: every file exists already here.", false);
      return;
    }
    let next = 0;
    let uploaded = 0;
    async function worker() {
      while (next < items.length) {
        const item = items[next];
        next += 1;
        if (await uploadOne(item, overwrite && existing.has(item.key))) uploaded += 1;
      }
    }
    await Promise.all(Array.from({ length: Math.min(PARALLEL_FILES, items.length) }, worker));
    const failed = items.length - uploaded;
    summary("Uploaded " + uploaded + " of " + items.length + " file" + (items.length === 1 ? "" : "s") +
      (failed ? "; " + failed + " failed (listed below)." : "."), failed > 0);
    if (uploaded) refreshListing();
  }

  function fromFileList(files) {
    return Array.from(files).map(function (file) {
      return { file: file, key: folder + (file.webkitRelativePath || file.name) };
    });
  }

  function readEntries(reader) {
    return new Promise(function (resolve, reject) { reader.readEntries(resolve, reject); });
  }

  async function walkEntry(entry, path, out) {
    if (entry.isFile) {
      const file = await new Promise(function (resolve, reject) { entry.file(resolve, reject); });
      out.push({ file: file, key: folder + path + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
        for (const child of batch) await walkEntry(child, path + entry.name + "/", out);
      }
    }
  }

  // Entries must be taken while the drop event runs; reading them may wait.
  function takeDropped(dataTransfer) {
    const entries = [];
    const files = [];
    Array.from(dataTransfer.items || []).forEach(function (item) {
      if (item.kind !== "file") return;
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry) entries.push(entry);
      else if (item.getAsFile()) files.push(item.getAsFile());
    });
    if (!entries.length && !files.length) files.push.apply(files, Array.from(dataTransfer.files || []));
    return { entries: entries, files: files };
  }

  async function dropped(taken) {
    const items = fromFileList(taken.files);
    for (const entry of taken.entries) await walkEntry(entry, "", items);
    return items;
  }

  function carriesFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types || []).indexOf("Files") >= 0;
  }

  document.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    overlay.hidden = false;
  });
  document.addEventListener("dragleave", function (event) {
    if (!event.relatedTarget) overlay.hidden = true;
  });
  document.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    overlay.hidden = true;
    const taken = takeDropped(event.dataTransfer);
    dropped(taken).then(uploadAll, function (error) { summary("The dropped items could not be read: " + error.message, true); });
  });

  section.querySelectorAll("[data-pick]").forEach(function (button) {
    const input = document.getElementById(button.dataset.pick);
    button.disabled = false;
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      const items = fromFileList(input.files);
      input.value = "";
      uploadAll(items);
    });
  });
})();
