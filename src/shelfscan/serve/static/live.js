// shelfscan live: the exported detector runs in the browser (onnxruntime-web, vendored: no CDN) on camera frames.
// WebGPU when the browser has it, else WASM with threads (the server sends COOP/COEP so threads are allowed).
// The model's graph ends before thresholding: score threshold, top-k and class-aware NMS happen here.
// State for tests and curious users: window.shelfscanLive and the data-* attributes of #stats.
import * as ort from "/vendor/ort/ort.min.mjs";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
// The page's settings (sizes offered, starting size and score, NMS IoU, max_det — never a silent 100/300 cap: a
// shelf can hold hundreds of products —, top-k and the padding grey) come from the server: config.defaults of
// /live/config.json (shelfscan.serve.web.LivePage), set in main() before the first frame.
let settings = null;
const state = { fps: 0, boxes: 0, gaps: null, frames: 0, backend: "", threads: 0, inferMs: 0, error: null,
                running: true, model: null, size: 0 };
window.shelfscanLive = state;

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
  if (isError) state.error = text;
}

function publish() {
  const s = $("stats").dataset;
  s.fps = state.fps.toFixed(2);
  s.boxes = String(state.boxes);
  s.gaps = state.gaps === null ? "" : String(state.gaps);
  s.frames = String(state.frames);
  s.backend = state.backend;
  s.threads = String(state.threads);
}

async function createSession(url) {
  // try WebGPU alone first so the backend we report is the one that runs; fall back to WASM
  const wanted = params.get("backend");
  if (navigator.gpu && wanted !== "wasm") {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      if (adapter) {
        const session = await ort.InferenceSession.create(url, { executionProviders: ["webgpu"] });
        return { session, backend: "webgpu" };
      }
    } catch (err) {
      console.warn("WebGPU unavailable, using WASM:", err);
    }
  }
  const session = await ort.InferenceSession.create(url, { executionProviders: ["wasm"],
                                                           graphOptimizationLevel: "all" });
  return { session, backend: "wasm" };
}

// ---- frame -> tensor ------------------------------------------------------------------------------------------
const work = document.createElement("canvas");
const workCtx = work.getContext("2d", { willReadFrequently: true });

function letterbox(video, size) {
  // scale the frame so its longest side is `size`, pad right/bottom to multiples of 32 with grey
  const vw = video.videoWidth, vh = video.videoHeight;
  const scale = size / Math.max(vw, vh);
  const w = Math.round(vw * scale), h = Math.round(vh * scale);
  const W = Math.ceil(w / 32) * 32, H = Math.ceil(h / 32) * 32;
  if (work.width !== W || work.height !== H) { work.width = W; work.height = H; }
  const pad = settings.pad;
  workCtx.fillStyle = `rgb(${pad},${pad},${pad})`;
  workCtx.fillRect(0, 0, W, H);
  workCtx.drawImage(video, 0, 0, w, h);
  const rgba = workCtx.getImageData(0, 0, W, H).data;
  const plane = W * H;
  const data = new Float32Array(3 * plane);   // RGB 0..255, CHW: the graph normalises
  for (let i = 0, j = 0; i < plane; i++, j += 4) {
    data[i] = rgba[j];
    data[plane + i] = rgba[j + 1];
    data[2 * plane + i] = rgba[j + 2];
  }
  return { tensor: new ort.Tensor("float32", data, [1, 3, H, W]), scale };
}

// ---- outputs -> boxes -----------------------------------------------------------------------------------------
function iou(b, i, j) {
  const x1 = Math.max(b[4 * i], b[4 * j]), y1 = Math.max(b[4 * i + 1], b[4 * j + 1]);
  const x2 = Math.min(b[4 * i + 2], b[4 * j + 2]), y2 = Math.min(b[4 * i + 3], b[4 * j + 3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const a = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
  const c = (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]);
  return inter / Math.max(1e-9, a + c - inter);
}

function postprocess(boxes, scores, numClasses, conf) {
  // scores (A, C) -> best class per location; threshold; top-k; greedy class-aware NMS; at most max_det
  const A = scores.length / numClasses;
  const cand = [];
  for (let a = 0; a < A; a++) {
    let best = 0, cls = 0;
    for (let c = 0; c < numClasses; c++) {
      const s = scores[a * numClasses + c];
      if (s > best) { best = s; cls = c; }
    }
    if (best >= conf) cand.push([best, a, cls]);
  }
  cand.sort((p, q) => q[0] - p[0]);
  if (cand.length > settings.pre_nms_topk) cand.length = settings.pre_nms_topk;
  const kept = [];
  for (const c of cand) {
    let ok = true;
    for (const k of kept) {
      if (k[2] === c[2] && iou(boxes, k[1], c[1]) > settings.iou) { ok = false; break; }
    }
    if (ok) { kept.push(c); if (kept.length >= settings.max_det) break; }
  }
  return kept.map(([score, a, cls]) => ({ score, cls, box: [boxes[4 * a], boxes[4 * a + 1], boxes[4 * a + 2],
                                                              boxes[4 * a + 3]] }));
}

// ---- drawing --------------------------------------------------------------------------------------------------
// product classes never get red: red outlines (with a light red fill) are the gaps, empty shelf space
const PALETTE = ["#ffd600", "#00e676", "#40c4ff", "#ff4081", "#ff9100", "#b388ff", "#64ffda", "#ffffff",
                 "#eeff41", "#18ffff"];
const GAP_COLOUR = "rgb(230, 30, 30)";   // counting/gaps.py GAP_COLOUR
const GAP_FILL = "rgba(230, 30, 30, 0.18)";

function kinds(classNames) {
  // the model's classes split into boxes counted (products or items) and the gap class (-1 when none)
  const gap = classNames.indexOf("gap");
  return { gap, products: classNames.filter((c) => c !== "gap") };
}

function draw(video, dets, scale, classNames) {
  const canvas = $("overlay");
  if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = Math.max(1.5, canvas.width / 500);
  const { gap, products } = kinds(classNames);
  const multi = products.length > 1;
  ctx.font = `${Math.max(11, Math.round(canvas.width / 70))}px system-ui, sans-serif`;
  for (const d of dets) {
    const [x1, y1, x2, y2] = d.box.map((v) => v / scale);
    if (d.cls === gap) {
      ctx.fillStyle = GAP_FILL;
      ctx.fillRect(x1, y1, x2 - x1, y2 - y1);
      ctx.strokeStyle = GAP_COLOUR;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      continue;
    }
    const k = gap >= 0 && d.cls > gap ? d.cls - 1 : d.cls;   // colour by product class
    ctx.strokeStyle = PALETTE[k % PALETTE.length];
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    if (multi) {
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fillText(`${classNames[d.cls]} ${d.score.toFixed(2)}`, x1 + 2, Math.max(12, y1 - 3));
    }
  }
}

function showCounts(dets, classNames, noun) {
  const { gap, products } = kinds(classNames);
  const nGaps = gap >= 0 ? dets.filter((d) => d.cls === gap).length : null;
  state.gaps = nGaps;
  const words = noun || (products.length > 1 ? "items" : "products");
  $("count").textContent = `${dets.length - (nGaps || 0)} ${words}` +
    (nGaps === null ? "" : ` · ${nGaps} gap${nGaps === 1 ? "" : "s"}`);
  if (products.length > 1) {
    const per = new Map();
    for (const d of dets) if (d.cls !== gap) per.set(d.cls, (per.get(d.cls) || 0) + 1);
    $("classes").textContent = [...per.entries()].sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${classNames[c]}: ${n}`).join(" · ");
  } else {
    $("classes").textContent = "";
  }
}

// ---- main loop ------------------------------------------------------------------------------------------------
async function main() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((err) => console.warn("no offline mode:", err));
  }
  const config = await (await fetch("/live/config.json")).json();
  if (!config.runtime_ready) { setStatus(config.hint, true); return; }
  if (!config.models.length) { setStatus("the server offers no ONNX model for the live page", true); return; }
  settings = config.defaults;
  for (const s of settings.sizes) $("size").add(new Option(String(s), String(s), s === settings.size, s === settings.size));
  $("conf").value = String(settings.conf);
  for (const m of config.models) $("model").add(new Option(m.name, m.name));
  if (params.get("model")) $("model").value = params.get("model");
  if (params.get("size")) $("size").value = params.get("size");
  if (params.get("conf")) $("conf").value = params.get("conf");

  ort.env.wasm.wasmPaths = "/vendor/ort/";
  // threads need cross-origin isolation (SharedArrayBuffer); without it ORT would silently use one thread
  state.threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = state.threads;

  const video = $("video");
  setStatus("asking for the camera…");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } } });
  } catch (err) {
    setStatus(`camera: ${err.name}: ${err.message} (allow the camera, or use the upload page)`, true);
    return;
  }
  video.srcObject = stream;
  await video.play();

  let current = null;   // { name, session, backend, classNames }
  async function load(name) {
    const info = config.models.find((m) => m.name === name) || config.models[0];
    setStatus(`loading ${info.name} (${(info.bytes / 2 ** 20).toFixed(1)} MiB)…`);
    const { session, backend } = await createSession(info.url);
    current = { name: info.name, session, backend, classNames: info.class_names, noun: info.noun };
    state.backend = backend;
    state.model = info.name;
    $("backend").textContent = `· ${backend}${backend === "wasm" ? ` ×${state.threads} threads` : ""}`;
    setStatus(`running ${info.name}`);
  }
  await load($("model").value);
  $("model").addEventListener("change", () => load($("model").value).catch((e) => setStatus(String(e), true)));
  $("toggle").addEventListener("click", () => {
    state.running = !state.running;
    $("toggle").textContent = state.running ? "pause" : "resume";
  });

  const times = [];
  for (;;) {
    if (!state.running || video.readyState < 2) { await new Promise((r) => setTimeout(r, 100)); continue; }
    const size = Number($("size").value);
    const conf = Number($("conf").value) || settings.conf;
    state.size = size;
    const t0 = performance.now();
    const { tensor, scale } = letterbox(video, size);
    const model = current;
    const out = await model.session.run({ images: tensor });
    const dets = postprocess(out.boxes.data, out.scores.data, model.classNames.length, conf);
    const t1 = performance.now();
    draw(video, dets, scale, model.classNames);
    showCounts(dets, model.classNames, model.noun);
    times.push(t1);
    // frames per second over the last 2 s (at least the last 2 frames, so slow devices still get a number)
    while (times.length > 2 && t1 - times[0] > 2000) times.shift();
    state.fps = times.length > 1 ? (1000 * (times.length - 1)) / (t1 - times[0]) : 1000 / Math.max(1, t1 - t0);
    state.inferMs = t1 - t0;
    state.boxes = dets.length - (state.gaps || 0);
    state.frames += 1;
    $("fps").textContent = `${state.fps.toFixed(1)} FPS (${state.inferMs.toFixed(0)} ms/frame)`;
    publish();
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
}

main().catch((err) => setStatus(`live page failed: ${err && err.message ? err.message : err}`, true));
