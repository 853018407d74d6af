// shelfscan upload page: send a photo to POST /v1/count (falls back to /v1/detect), show the results.
// Plain JavaScript, no external scripts; every server text is inserted with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
let maxBytes = Infinity;  // the server's limit, from /healthz (until it answers, the server refuses too-big files)
let photoUrl = null;
let defaultModel = null;
let models = {};   // name -> {classes, imgsz, noun}, from /healthz

function isTagging(info) {
  // a tagging model (several kinds of boxes, "items") gets boxes per category; shelf models (one product class,
  // with or without "gap") get products grouped into types
  if (!info) return false;
  if (info.noun) return info.noun === "items";
  return info.classes.filter((c) => c !== "gap").length > 1;
}

function showGaps(gaps) {
  // gaps (empty shelf space) come only from a model with a gap class: absent means unknown, not zero
  const el = $("gaps");
  el.hidden = !gaps;
  if (!gaps) return;
  const n = gaps.count;
  const share = typeof gaps.share_of_width === "number" ? `: ${pct(gaps.share_of_width)} of the shelf's width` : "";
  el.textContent = `${n} gap${n === 1 ? "" : "s"} (empty shelf space)${share}`;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function pct(x) {
  return typeof x === "number" ? (100 * x).toFixed(1) + " %" : "";
}

async function post(path, file, model) {
  const form = new FormData();
  form.append("image", file, file.name || "photo.jpg");
  const headers = {};
  const key = $("apikey").value.trim();
  if (key) headers["X-API-Key"] = key;
  const query = new URLSearchParams({ images: "true" });
  if (model) query.set("model", model);
  const res = await fetch(`${path}?${query}`, { method: "POST", body: form, headers });
  let body = null;
  try { body = await res.json(); } catch (e) { body = { error: `HTTP ${res.status} (not JSON)` }; }
  return { status: res.status, body };
}

function cropCanvas(image, box) {
  // box [x1, y1, x2, y2] in photo pixels -> a small canvas with that crop
  const [x1, y1, x2, y2] = box.map(Number);
  const w = Math.max(1, x2 - x1), h = Math.max(1, y2 - y1);
  const scale = Math.min(1, 64 / h, 96 / w);
  const c = document.createElement("canvas");
  c.width = Math.max(1, Math.round(w * scale));
  c.height = Math.max(1, Math.round(h * scale));
  c.getContext("2d").drawImage(image, x1, y1, w, h, 0, 0, c.width, c.height);
  return c;
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = url;
  });
}

function cell(row, content) {
  const td = document.createElement("td");
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
  row.appendChild(td);
}

async function showCount(body, photo) {
  const nTypes = body.groups.filter((g) => g.id >= 0).length;
  $("total").textContent = `${body.total} ${body.noun || "products"}, ${nTypes} type${nTypes === 1 ? "" : "s"}`;
  showGaps(body.gaps);
  $("types-title").textContent = "Product types";
  $("summary").textContent = typeof body.silhouette === "number"
    ? `grouping silhouette ${body.silhouette.toFixed(3)} (higher: types more distinct)` : "";
  const tbody = $("groups");
  tbody.replaceChildren();
  for (const g of body.groups) {
    const tr = document.createElement("tr");
    cell(tr, String(g.id));
    cell(tr, photo && Array.isArray(g.example_box) ? cropCanvas(photo, g.example_box) : "");
    cell(tr, String(g.count));
    cell(tr, pct(g.share_of_facings));
    cell(tr, pct(g.share_of_width));
    tbody.appendChild(tr);
  }
  const hasSheet = Boolean(body.types_jpeg);
  $("types").hidden = $("sheet-title").hidden = !hasSheet;
  if (hasSheet) $("types").src = "data:image/jpeg;base64," + body.types_jpeg;
}

function showDetect(body, tagged) {
  // a tagging model (several classes): one row per class with its count; else only the total
  const hasGaps = (body.class_names || []).includes("gap");
  const gapCount = hasGaps ? (body.counts || {}).gap || 0 : 0;
  const shown = body.count - gapCount;   // gaps are empty space, not boxes of the model's kind
  $("total").textContent = `${shown} ${body.noun || (tagged ? "items" : "products")}`;
  showGaps(hasGaps ? { count: gapCount } : null);
  $("summary").textContent = tagged ? "boxes per category" : "grouping into types is not available on this server";
  $("types-title").textContent = tagged ? "Categories" : "Product types";
  const tbody = $("groups");
  tbody.replaceChildren();
  const counts = Object.entries(body.counts || {}).sort((a, b) => b[1] - a[1]);
  for (const [label, n] of tagged ? counts.filter(([c]) => c !== "gap") : []) {
    const tr = document.createElement("tr");
    cell(tr, label);
    cell(tr, "");
    cell(tr, String(n));
    cell(tr, pct(n / Math.max(1, shown)));
    cell(tr, "");
    tbody.appendChild(tr);
  }
  $("types").hidden = $("sheet-title").hidden = true;
}

async function analyse(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) {
    setStatus(`expected an image file, got ${file.type || "a file of unknown type"}`, true);
    return;
  }
  if (file.size > maxBytes) {
    const mb = (n) => (n / 2 ** 20).toFixed(1) + " MB";
    setStatus(`expected at most ${mb(maxBytes)}, got ${mb(file.size)}`, true);
    return;
  }
  setStatus(`analysing ${file.name} …`);
  $("results").hidden = true;
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  const model = $("model").value || null;
  const tagged = isTagging(models[model || defaultModel]);
  try {
    // shelf models: products grouped into types (/v1/count); tagging models: boxes per category (/v1/detect)
    let { status, body } = tagged ? { status: 501 } : await post("/v1/count", file, model);
    let grouped = true;
    if (status === 501) {
      ({ status, body } = await post("/v1/detect", file, model));
      grouped = false;
    }
    if (status !== 200) {
      setStatus(`error ${status}: ${body.error || "unknown error"}`, true);
      return;
    }
    const photo = await loadImage(photoUrl).catch(() => null);
    if (grouped) await showCount(body, photo); else showDetect(body, tagged);
    $("annotated").src = body.annotated_jpeg ? "data:image/jpeg;base64," + body.annotated_jpeg : photoUrl;
    $("results").hidden = false;
    const ms = body.time_ms && body.time_ms.total;
    setStatus(`${file.name}: done${ms ? ` in ${(ms / 1000).toFixed(1)} s` : ""}`);
  } catch (e) {
    setStatus(`error: could not reach the server (${e.message})`, true);
  }
}

function setup() {
  const drop = $("drop"), input = $("file");
  const saved = sessionStorage.getItem("shelfscan-key");
  if (saved) $("apikey").value = saved;
  $("apikey").addEventListener("change", () => sessionStorage.setItem("shelfscan-key", $("apikey").value));
  fetch("/healthz").then((r) => r.json()).then((h) => {
    if (Number.isFinite(h.max_bytes)) maxBytes = h.max_bytes;
    models = h.models || {};
    defaultModel = h.default_model;
    for (const name of Object.keys(models)) {
      const n = models[name].classes.length;
      $("model").add(new Option(n > 1 ? `${name} (${n} categories)` : name, name, false, name === h.default_model));
    }
    $("model-label").hidden = Object.keys(models).length < 2;
  }).catch(() => {});
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  input.addEventListener("change", () => analyse(input.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    analyse(e.dataTransfer.files[0]);
  });
}

setup();
