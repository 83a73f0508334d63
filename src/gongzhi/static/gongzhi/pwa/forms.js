/* Forms that work offline (form[data-offline]: the case report, a household visit, photos for a case; docs/offline.md).

   Photos are made smaller on the phone as soon as they are chosen (browser-image-compression: long side at most
   1,600 px, at most 500 KB, turned upright), the original's EXIF (its GPS position above all) copied onto the result
   with piexifjs, the orientation tag reset since the pixels are now upright.

   On submit the form is sent with its idempotency key. With no connection (or the send failing on the way) it is
   put in the outbox instead — everything typed and the photos — and sent later by itself; the form is emptied for
   the next one, with a new key. */
(function () {
  "use strict";
  const MAX_SIDE = 1600;
  const MAX_BYTES = 500 * 1024;

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function readDataURL(blob) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  }

  function dataURLToBlob(url) {
    const [head, data] = url.split(",");
    const bytes = atob(data);
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
    return new Blob([out], { type: head.slice(5).split(";")[0] });
  }

  // The original's EXIF onto the compressed JPEG: GPS kept; orientation 1 (the pixels were turned already); no
  // thumbnail (it would show the old orientation and cost bytes).
  async function withExif(original, compressed) {
    if (!window.piexif || !/jpe?g/i.test(original.type)) return compressed;
    try {
      const exif = piexif.load(await readDataURL(original));
      exif["0th"] = exif["0th"] || {};
      exif["0th"][piexif.ImageIFD.Orientation] = 1;
      exif.thumbnail = null;
      exif["1st"] = {};
      if (exif.Exif) {
        delete exif.Exif[piexif.ExifIFD.PixelXDimension];
        delete exif.Exif[piexif.ExifIFD.PixelYDimension];
      }
      const joined = piexif.insert(piexif.dump(exif), await readDataURL(compressed));
      return dataURLToBlob(joined);
    } catch (e) {
      return compressed; // no EXIF in the original, or one piexif cannot read: the photo as it is
    }
  }

  async function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.imageCompression) return file;
    const compressed = await imageCompression(file, {
      maxSizeMB: (MAX_BYTES * 0.9) / (1024 * 1024), // leave room for the EXIF copied back
      maxWidthOrHeight: MAX_SIDE,
      useWebWorker: false, // its worker would load the library from a CDN
      fileType: "image/jpeg",
      initialQuality: 0.82,
      preserveExif: false,
    });
    const blob = await withExif(file, compressed);
    const name = file.name.replace(/\.[^.]+$/, "") + ".jpg";
    return new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified });
  }

  function setupPhotos(form, note) {
    form.gzPending = Promise.resolve();
    form.querySelectorAll('input[type="file"]').forEach((input) => {
      input.addEventListener("change", (event) => {
        if (event.gzCompressed) return;
        const files = Array.from(input.files || []);
        if (!files.length) return;
        say(note, note.dataset.compressing);
        form.gzPending = (async () => {
          const before = files.reduce((n, f) => n + f.size, 0);
          const out = [];
          for (const f of files) {
            try {
              out.push(await shrink(f));
            } catch (e) {
              out.push(f);
            }
          }
          const dt = new DataTransfer();
          out.forEach((f) => dt.items.add(f));
          input.files = dt.files;
          const again = new Event("change", { bubbles: true });
          again.gzCompressed = true;
          input.dispatchEvent(again); // the previews show what will be sent
          const after = out.reduce((n, f) => n + f.size, 0);
          say(note, fmt(note.dataset.compressed, { before: Math.round(before / 1024), after: Math.round(after / 1024) }));
        })();
      });
    });
  }

  function say(note, text) {
    if (!note) return;
    note.textContent = text;
    note.hidden = !text;
  }

  // What the worker typed, as they saw it (each field's label and shown value): the outbox page lists it if the
  // server refuses the submission, so that nothing is lost.
  function describe(form) {
    const shown = [];
    const seen = new Set();
    for (const el of form.elements) {
      if (!el.name || seen.has(el.name) || el.type === "hidden" || el.type === "file" || el.type === "submit") continue;
      let label = el.labels && el.labels[0] ? el.labels[0].textContent.trim() : "";
      let value = "";
      if (el.type === "radio") {
        seen.add(el.name);
        const checked = form.querySelector(`input[name="${el.name}"]:checked`);
        const fieldset = el.closest("fieldset");
        const legend = fieldset && fieldset.querySelector("legend");
        label = legend ? legend.textContent.replace("*", "").trim() : label;
        value = checked && checked.labels && checked.labels[0] ? checked.labels[0].textContent.trim() : "";
      } else if (el.type === "checkbox") {
        value = el.checked ? "✓" : "";
      } else if (el.tagName === "SELECT") {
        value = Array.from(el.selectedOptions, (o) => (o.value ? o.textContent.trim() : "")).join("、");
      } else {
        value = el.value;
      }
      seen.add(el.name);
      if (label && String(value).trim()) shown.push([label, String(value)]);
    }
    return shown;
  }

  async function queue(form, key, note) {
    const fields = [];
    const files = [];
    for (const [name, value] of new FormData(form).entries()) {
      if (name === "idempotency_key") continue;
      if (value instanceof File) {
        if (value.size) files.push([name, value, value.name]);
      } else {
        fields.push([name, value]);
      }
    }
    const titleField = form.querySelector('[name="title"]') || form.querySelector('[name="needs"]');
    const heading = document.querySelector("h1");
    const label = [form.dataset.offlineLabel || (heading && heading.textContent.trim()), titleField && titleField.value]
      .filter(Boolean)
      .join(" · ");
    const csrf = form.querySelector('[name="csrfmiddlewaretoken"]');
    await GzOutbox.add({
      key: key,
      kind: form.dataset.offline,
      label: label,
      url: new URL(form.getAttribute("action") || location.pathname, location.href).pathname,
      page: location.pathname,
      fields: fields,
      shown: describe(form),
      files: files,
      csrf: csrf ? csrf.value : null,
    });
    try {
      // (ready never settles on a page no service worker controls: plain http)
      if ("serviceWorker" in navigator && navigator.serviceWorker.controller) {
        const registration = await navigator.serviceWorker.ready;
        if (registration.sync) await registration.sync.register(GzOutbox.SYNC_TAG);
      }
    } catch (e) {
      /* no Background Sync: the next page load or the outbox page's button sends it */
    }
    form.reset();
    form.querySelectorAll(".photo-preview").forEach((box) => (box.innerHTML = ""));
    const counts = await GzOutbox.counts();
    say(note, fmt(note.dataset.queued, { n: counts.waiting }));
    if (window.GzApp) window.GzApp.refresh();
  }

  document.querySelectorAll("form[data-offline]").forEach((form) => {
    const keyInput = form.querySelector("[data-idempotency-key]");
    const note = form.querySelector("[data-offline-note]");
    if (!keyInput || !window.GzOutbox) return;
    keyInput.value = newKey(); // a page kept by the service worker is shown many times: a key of its own each time
    setupPhotos(form, note);
    let busy = false;
    form.addEventListener("submit", async (event) => {
      if (form.gzNative) return; // the server's own answer (its form errors) is wanted: let the browser post it
      event.preventDefault();
      if (busy) return;
      busy = true;
      try {
        await form.gzPending;
        const key = keyInput.value;
        if (navigator.onLine) {
          let response = null;
          try {
            response = await fetch(form.action, {
              method: "POST",
              body: new FormData(form),
              headers: { "Idempotency-Key": key },
              credentials: "same-origin",
            });
          } catch (e) {
            response = null; // lost on the way: into the outbox
          }
          if (response && response.ok && response.redirected) {
            // The page it lands on said what was done (the messages): carried over to the same page opened anew.
            const landed = new DOMParser().parseFromString(await response.text(), "text/html");
            const said = landed.querySelector("ul.messages");
            if (said) sessionStorage.setItem("gz-messages", said.outerHTML);
            location.assign(response.url);
            return;
          }
          if (response && response.status < 500) {
            // Refused (form errors, a conflict): post it the ordinary way to see the server's page. The key did
            // nothing yet (a refusal keeps no key), so the same key is fine.
            form.gzNative = true;
            HTMLFormElement.prototype.submit.call(form);
            return;
          }
        }
        await queue(form, key, note);
        keyInput.value = newKey();
      } finally {
        busy = false;
      }
    });
  });
})();
