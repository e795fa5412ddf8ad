// The docexit playground (served at /): upload a page, classify it twice through the public API
// (the chosen policy and budget, then full depth) and draw how each answer's cascade ran.
// No libraries and nothing from another host: the page is plain DOM and SVG built here, and it
// calls only POST /v1/classify and GET /v1/model, so every limit of the API applies to it.
"use strict";

// Budget slider stops in ms; null: no budget (the form field is then not sent at all).
const BUDGET_STOPS = [null, 50, 100, 200, 500, 1000, 2000, 3000, 5000, 10000];

// The SVG namespace, taken from the HTML parser rather than spelled out: the page's files then
// hold no URL of any other host, which a test checks by scanning them.
const SVG_NS = (() => {
  const holder = document.createElement("div");
  holder.innerHTML = "<svg></svg>";
  return holder.firstChild.namespaceURI;
})();

// The cascade chart's geometry, in SVG user units (about pixels at the usual column width).
const CHART = { name: 112, bar: 250, text: 250, row: 22, top: 24, bottom: 6 };

// A cascade step's reason, in the chart's words (REASON_HELP: in its tooltips).
const REASON_TEXT = {
  policy: "policy",
  deadline: "deadline",
  load: "load",
  full_depth: "full depth",
};

const REASON_HELP = {
  policy: "an earlier exit answered, or the policy never stops here",
  deadline: "the budget left could not pay for it",
  load: "the service answered shallower under load",
  full_depth: "the request ran the last exit only",
};

// The submit in flight (a newer one aborts it) and the preview's blob: URL (revoked when replaced).
const state = { run: null, preview: null };

const $ = (selector, root = document) => root.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// Building DOM. Text from an answer always goes in as text nodes, never parsed as HTML.

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

// ---------------------------------------------------------------------------------------------
// Formatting.

function ms(value) {
  if (value === null || value === undefined) return "–";
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

const percent = (p) => `${(p * 100).toFixed(1)}%`;
const fixed = (p) => p.toFixed(2);

function budgetText(budgetMs) {
  if (budgetMs === null || budgetMs === undefined) return "off";
  return budgetMs >= 1000 ? `${budgetMs / 1000} s` : `${budgetMs} ms`;
}

function policyText(spec) {
  if (!spec) return "none";
  return spec.tau === undefined ? spec.name : `${spec.name} τ ${spec.tau}`;
}

// ---------------------------------------------------------------------------------------------
// Talking to the API.

// A failed answer as the user should read it: the problem+json fields when there are any,
// otherwise what HTTP itself said (a proxy's error page is not JSON).
async function readProblem(response) {
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const retry = (response.headers.get("Retry-After") || "").trim();
  return {
    status: body?.status ?? response.status,
    title: body?.title ?? (response.statusText || "HTTP error"),
    detail: body?.detail ?? text.slice(0, 300),
    errors: Array.isArray(body?.errors) ? body.errors : [],
    retryAfter: /^\d+$/.test(retry) ? Number(retry) : null,
    requestId: response.headers.get("X-Request-ID"),
  };
}

function networkProblem(error) {
  return {
    status: 0,
    title: "No answer from the service",
    detail: `the request failed before the service answered (${error.message})`,
    errors: [],
    retryAfter: null,
    requestId: null,
  };
}

async function loadModel() {
  const line = $("#model");
  let problem;
  try {
    const response = await fetch("/v1/model", { headers: { Accept: "application/json" } });
    if (response.ok) {
      line.classList.remove("error");
      line.textContent = describeModel(await response.json());
      return;
    }
    problem = await readProblem(response);
  } catch (error) {
    problem = networkProblem(error);
  }
  // Not ready yet (503 while the model loads) is the usual case: try again when told to.
  const wait = problem.retryAfter ?? 5;
  line.classList.add("error");
  line.textContent =
    `model card: ${problem.title} (${problem.status}): ${problem.detail}; ` +
    `retrying in ${wait} s`;
  setTimeout(loadModel, wait * 1000);
}

function describeModel(model) {
  return [
    `${model.name} ${model.version} on ${model.device}`,
    `${model.labels.length} classes`,
    `${model.exits.length} exits`,
    `OCR ${model.ocr_engine}`,
    `card policy ${policyText(model.policy)}`,
  ].join(" · ");
}

async function classify(fields, signal) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof File) form.append(key, value, value.name);
    else form.append(key, value);
  }
  const started = performance.now();
  try {
    const response = await fetch("/v1/classify", { method: "POST", body: form, signal });
    if (!response.ok) return { problem: await readProblem(response) };
    const answer = await response.json();
    return { answer, roundTrip: performance.now() - started };
  } catch (error) {
    if (error.name === "AbortError") throw error; // a newer submit replaced this one
    return { problem: networkProblem(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// The form.

function selectedFile() {
  return $("#file").files[0] || null;
}

// PDFs and TIFFs may hold several pages; images of other kinds are one page.
function isPaged(file) {
  if (!file) return false;
  return /pdf|tiff/.test(file.type) || /\.(pdf|tiff?)$/i.test(file.name);
}

function chosenBudget() {
  return BUDGET_STOPS[Number($("#budget").value)] ?? null;
}

// The form fields of one of the two requests: "policy" (the user's choice) or "full".
function requestFields(run) {
  const file = selectedFile();
  const fields = { file };
  if (isPaged(file)) {
    if ($("input[name=scope]:checked").value === "all") fields.pages = "all";
    else fields.page = $("#page").value.trim() || "0"; // the service validates it
  }
  if (run === "full") {
    fields.full_depth = "true";
    return fields;
  }
  const policy = $("#policy").value;
  if (policy) fields.policy = policy;
  const budget = chosenBudget();
  if (budget !== null) fields.latency_budget_ms = String(budget);
  return fields;
}

function onBudget() {
  $("#budget-value").textContent = budgetText(chosenBudget());
}

function onFile() {
  const file = selectedFile();
  $("#pages").disabled = !isPaged(file);
  const preview = $("#preview");
  if (state.preview) URL.revokeObjectURL(state.preview);
  state.preview = null;
  // Only formats the browser draws itself: a blob: URL stays inside the page.
  if (file && /^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
    state.preview = URL.createObjectURL(file);
    preview.src = state.preview;
    preview.hidden = false;
  } else {
    preview.removeAttribute("src");
    preview.hidden = true;
  }
}

function setBusy(busy) {
  const button = $("#submit");
  button.disabled = busy;
  button.textContent = busy ? "Classifying…" : "Classify";
}

async function onSubmit(event) {
  event.preventDefault();
  hideProblem();
  if (!selectedFile()) {
    showProblem({ title: "No file", detail: "choose a page image or a PDF first", errors: [] });
    return;
  }
  state.run?.abort();
  const run = new AbortController();
  state.run = run;
  const runs = ["policy", "full"].map((name) => [name, requestFields(name)]);
  $("#results").hidden = false;
  $("#comparison")?.remove();
  for (const [name, fields] of runs) showPending(name, fields);
  setBusy(true);
  const outcomes = {};
  try {
    // One after the other, not at once: side by side they would share the same workers and
    // cores, and neither timing would say what the request costs alone.
    for (const [name, fields] of runs) {
      outcomes[name] = await classify(fields, run.signal);
      renderRun(name, outcomes[name], fields);
    }
    showComparison(outcomes.policy, outcomes.full);
  } catch (error) {
    if (error.name !== "AbortError") throw error;
  } finally {
    if (state.run === run) setBusy(false);
  }
}

// ---------------------------------------------------------------------------------------------
// Problems (RFC 9457 problem+json) as the user reads them.

function problemView(problem) {
  const status = problem.status ? ` (${problem.status})` : "";
  const lines = [h("strong", {}, `${problem.title}${status}`)];
  if (problem.detail) lines.push(h("p", {}, problem.detail));
  if (problem.errors?.length) {
    const items = problem.errors.map((e) => h("li", {}, `${(e.loc || []).join(".")}: ${e.msg}`));
    lines.push(h("ul", {}, items));
  }
  if (problem.status === 503) {
    const when = problem.retryAfter === null ? "later" : `in ${problem.retryAfter} s`;
    lines.push(h("p", { class: "retry" }, `The service is busy or not ready: try again ${when}.`));
  } else if (problem.retryAfter !== null && problem.retryAfter !== undefined) {
    lines.push(h("p", { class: "retry" }, `Retry after ${problem.retryAfter} s.`));
  }
  if (problem.requestId) {
    lines.push(h("p", { class: "muted small" }, `request ${problem.requestId}`));
  }
  return h("div", { class: "problem-body" }, lines);
}

function showProblem(problem) {
  const box = $("#problem");
  box.replaceChildren(problemView(problem));
  box.hidden = false;
}

function hideProblem() {
  $("#problem").hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Answers.

function runArticle(name) {
  return $(`.run[data-run="${name}"]`);
}

function showPending(name, fields) {
  const article = runArticle(name);
  article.dataset.state = "pending";
  // Full depth reads every page of a document, and the wait says so.
  const text = fields.pages && fields.full_depth ? "classifying every page…" : "classifying…";
  $(".body", article).replaceChildren(h("p", { class: "pending" }, text));
  if (name === "policy") $(".sub", article).textContent = "";
}

function renderRun(name, outcome, fields) {
  const article = runArticle(name);
  const body = $(".body", article);
  if (outcome.problem) {
    article.dataset.state = "error";
    body.replaceChildren(h("div", { class: "problem" }, problemView(outcome.problem)));
    return;
  }
  article.dataset.state = "done";
  if (name === "policy") $(".sub", article).textContent = policySubtitle(outcome.answer);
  body.replaceChildren(answerView(outcome.answer, fields, outcome.roundTrip));
}

function policySubtitle(answer) {
  const p = answer.policy;
  // Scalar knobs only (tau 0.9, patience 2): per-exit tables are in the chart's ticks.
  const knob = Object.entries(p.knob || {})
    .filter(([, value]) => typeof value !== "object")
    .map(([key, value]) => `${key} ${value}`);
  const name = knob.length ? `${p.name} (${knob.join(", ")})` : p.name;
  const parts = [name, `budget ${budgetText(p.latency_budget_ms)}`, `from ${p.source}`];
  if (p.degraded) parts.push("degraded under load");
  return parts.join(" · ");
}

// The document answer (pages=all) carries pages_read; a page answer does not.
const isDocument = (answer) => "pages_read" in answer;

function answerView(answer, fields, roundTrip) {
  if (isDocument(answer)) return documentView(answer, roundTrip);
  const view = pageView(answer, roundTrip);
  if (fields.pages === "all") {
    const note = "This service answered one page: it does not read whole documents yet.";
    view.prepend(h("p", { class: "note" }, note));
  }
  return view;
}

function verdictView(answer, extra) {
  const label = answer.label ?? "abstained";
  return h(
    "div",
    { class: "verdict" },
    h("div", { class: `label${answer.label === null ? " abstained" : ""}` }, label),
    h("div", { class: "confidence" }, percent(answer.confidence)),
    h("div", { class: "facts" }, extra),
  );
}

function chip(text, kind = "") {
  return h("span", { class: `chip ${kind}`.trim() }, text);
}

function pageFacts(page) {
  const exit = page.exit;
  const facts = [
    chip(`exit ${exit.name}`, "exit"),
    chip(`${exit.stage}, layer ${exit.layer} of ${exit.num_layers}`),
    chip(page.ocr_skipped ? "OCR skipped" : `OCR calls ${page.ocr_calls}`),
  ];
  if (page.deadline_hit) facts.push(chip("deadline hit", "warn"));
  if (page.policy?.degraded) facts.push(chip(`degraded: ${page.policy.degradation?.rung}`, "warn"));
  if (!page.in_distribution) facts.push(chip("out of distribution", "warn"));
  return facts;
}

function pageView(page, roundTrip) {
  const children = [verdictView(page, pageFacts(page))];
  if (page.abstained_reason) children.push(h("p", { class: "note" }, page.abstained_reason));
  children.push(
    h("div", { class: "pair" }, topKView(page.top_k), timingsView(page.timings_ms, roundTrip)),
    h("h3", {}, "Cascade"),
    cascadeChart(page.cascade || []),
    legend(),
    thresholdNote(page),
    h("p", { class: "muted small" }, `page ${page.page} · request ${page.request_id}`),
  );
  return h("div", { class: "answer page" }, children);
}

function documentView(doc, roundTrip) {
  // Pages are numbered from 0 everywhere, as the API and the form's page field number them.
  const facts = [
    chip(`read ${doc.pages_read.length} of ${doc.page_count}: page ${doc.pages_read.join(", ")}`),
    chip(`stopped: ${doc.stopped.replace("_", " ")}`, doc.stopped === "deadline" ? "warn" : ""),
    chip(`pool threshold ${fixed(doc.pool.threshold)}`),
  ];
  const times = h(
    "div",
    { class: "times" },
    h("h3", {}, "Timings"),
    h(
      "dl",
      { class: "timings" },
      timing("pages (summed)", doc.timings_ms.pages),
      timing("total (server)", doc.timings_ms.total),
      roundTrip === undefined ? null : timing("round trip", roundTrip),
    ),
  );
  const pages = doc.pages.map((page, i) => {
    const label = page.label ?? "abstained";
    const title = `page ${page.page}: ${label} ${percent(page.confidence)} at ${page.exit.name}`;
    const summary = h("summary", {}, title);
    return h("details", { class: "doc-page", open: i === 0 }, summary, pageView(page));
  });
  return h(
    "div",
    { class: "answer document" },
    verdictView(doc, facts),
    h("div", { class: "pair" }, topKView(doc.top_k), times),
    h("h3", {}, `Pages read (${doc.pages.length})`),
    pages,
  );
}

function topKView(topK) {
  const rows = topK.map((entry) => {
    const fill = h("span", { class: "fill" });
    fill.style.width = percent(entry.confidence); // CSSOM, which the page's CSP allows
    return h(
      "li",
      {},
      h("span", { class: "name" }, entry.label),
      h("span", { class: "meter" }, fill),
      h("span", { class: "value" }, percent(entry.confidence)),
    );
  });
  return h("div", { class: "topk" }, h("h3", {}, "Top classes"), h("ol", {}, rows));
}

function timing(name, value) {
  return [h("dt", {}, name), h("dd", {}, ms(value))];
}

function timingsView(t, roundTrip) {
  return h(
    "div",
    { class: "times" },
    h("h3", {}, "Timings"),
    h(
      "dl",
      { class: "timings" },
      timing("queue", t.queue),
      timing("decode", t.decode),
      timing("OCR", t.ocr),
      timing("encode", t.encode),
      timing("total (server)", t.total),
      roundTrip === undefined ? null : timing("round trip", roundTrip),
    ),
  );
}

function showComparison(policy, full) {
  const a = policy?.answer;
  const b = full?.answer;
  if (!a || !b) return;
  const same = a.label === b.label;
  const ratio = b.timings_ms.total / Math.max(a.timings_ms.total, 0.001);
  const speed =
    ratio >= 1 ? `${ratio.toFixed(1)}× faster than` : `${(1 / ratio).toFixed(1)}× slower than`;
  const text =
    `${same ? "Same class as" : "A different class from"} full depth; ` +
    `the chosen policy was ${speed} full depth on the server.`;
  const kind = `comparison ${same ? "same" : "differs"}`;
  $("#results").before(h("p", { id: "comparison", class: kind }, text));
}

// ---------------------------------------------------------------------------------------------
// The cascade chart: one row per exit in the order the cascade meets them, a bar for the exit's
// calibrated confidence, a tick at the policy's threshold there, the answering exit highlighted
// and skipped exits left as dashed empty tracks with the reason beside them.

const xOf = (p) => CHART.name + Math.max(0, Math.min(1, p)) * CHART.bar;

function cascadeChart(steps) {
  if (steps.length === 0) return h("p", { class: "note" }, "This answer carries no cascade.");
  const width = CHART.name + CHART.bar + CHART.text;
  const height = CHART.top + steps.length * CHART.row + CHART.bottom;
  const answered = steps.find((s) => s.status === "answered");
  const summary = answered
    ? `cascade of ${steps.length} exits; ${answered.name} answered`
    : `cascade of ${steps.length} exits; none answered`;
  const chart = svg("svg", {
    class: "cascade",
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": summary,
  });
  chart.append(axis(height), ...steps.map((step, i) => exitRow(step, i, steps[i - 1])));
  return chart;
}

function axis(height) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((p) =>
    svg(
      "g",
      { class: "grid" },
      svg("line", { x1: xOf(p), x2: xOf(p), y1: CHART.top - 4, y2: height - CHART.bottom }),
      svg("text", { x: xOf(p), y: CHART.top - 9, "text-anchor": "middle" }, String(p)),
    ),
  );
  const title = svg(
    "text",
    { class: "axis-title", x: CHART.name - 8, y: CHART.top - 9, "text-anchor": "end" },
    "confidence",
  );
  return svg("g", { class: "axis" }, title, ticks);
}

function exitRow(step, index, previous) {
  const mid = CHART.row / 2;
  const nameAt = { x: CHART.name - 8, y: mid, "dominant-baseline": "central" };
  const valueAt = { x: CHART.name + CHART.bar + 10, y: mid, "dominant-baseline": "central" };
  const row = svg("g", {
    class: `exit ${step.status} ${step.stage}`,
    "data-exit": step.name,
    "data-status": step.status,
    transform: `translate(0 ${CHART.top + index * CHART.row})`,
  });
  row.append(svg("title", {}, tooltip(step)));
  if (step.status === "answered") {
    const box = { class: "highlight", x: 0, y: 0, width: "100%", height: CHART.row, rx: 3 };
    row.append(svg("rect", box));
  }
  // Where OCR starts: the first multimodal exit after the vision ones.
  if (previous && previous.stage !== step.stage) {
    row.append(svg("line", { class: "stage-break", x1: 0, x2: "100%", y1: 0, y2: 0 }));
  }
  row.append(
    svg("text", { ...nameAt, class: "name", "text-anchor": "end" }, step.name),
    svg("rect", { class: "track", x: CHART.name, y: 4, width: CHART.bar, height: CHART.row - 8 }),
  );
  if (step.confidence !== null && step.confidence !== undefined) {
    const width = xOf(step.confidence) - CHART.name;
    row.append(svg("rect", { class: "bar", x: CHART.name, y: 4, width, height: CHART.row - 8 }));
  }
  if (step.threshold !== null && step.threshold !== undefined) {
    row.append(thresholdTick(step.threshold));
  }
  row.append(svg("text", { ...valueAt, class: "value" }, rowText(step)));
  return row;
}

function thresholdTick(threshold) {
  // A threshold above 1 is one no calibrated confidence reaches: drawn at the end, marked.
  const x = xOf(threshold);
  const kind = threshold > 1 ? "tick never" : "tick";
  return svg("line", { class: kind, x1: x, x2: x, y1: 1, y2: CHART.row - 1 });
}

function rowText(step) {
  if (step.status === "skipped") {
    return `skipped · ${REASON_TEXT[step.reason] ?? "not run"}`;
  }
  let text = fixed(step.confidence);
  if (step.threshold !== null && step.threshold !== undefined) {
    text += `${step.confidence >= step.threshold ? " ≥" : " <"} ${fixed(step.threshold)}`;
  }
  text += ` ${step.label}`;
  if (step.status === "answered" && step.reason && step.reason !== "policy") {
    text += ` · ${REASON_TEXT[step.reason]}`;
  }
  return text;
}

function tooltip(step) {
  const lines = [`${step.name} (${step.stage}): ${step.status}`];
  if (step.confidence !== null && step.confidence !== undefined) {
    lines.push(`confidence ${step.confidence.toFixed(4)} for ${step.label}`);
  }
  lines.push(step.threshold === null ? "no threshold applies" : `threshold ${step.threshold}`);
  if (step.reason) lines.push(`reason: ${step.reason} (${REASON_HELP[step.reason] ?? ""})`);
  return lines.join("\n");
}

// Without ticks the chart would look as if thresholds were missing: say why there are none.
function thresholdNote(page) {
  const steps = page.cascade || [];
  if (steps.length === 0 || steps.some((s) => s.threshold !== null)) return null;
  const why =
    page.policy.name === "full_depth"
      ? "full depth: no threshold, the last exit answers"
      : `no confidence threshold: the ${page.policy.name} policy decides otherwise`;
  return h("p", { class: "muted small" }, why);
}

function legend() {
  const item = (kind, text) => h("li", {}, h("span", { class: `swatch ${kind}` }), text);
  return h(
    "ul",
    { class: "legend" },
    item("answered", "answered"),
    item("vision", "ran (vision)"),
    item("multimodal", "ran (multimodal, after OCR)"),
    item("skipped", "skipped"),
    item("tick", "threshold"),
  );
}

// ---------------------------------------------------------------------------------------------

function start() {
  const list = $("#budget-stops");
  BUDGET_STOPS.forEach((_, i) => list.append(h("option", { value: i })));
  const slider = $("#budget");
  slider.max = String(BUDGET_STOPS.length - 1);
  slider.addEventListener("input", onBudget);
  onBudget();
  $("#file").addEventListener("change", onFile);
  $("#form").addEventListener("submit", onSubmit);
  onFile();
  loadModel();
}

start();
