// The case page's diagram: completed, active and overdue steps marked, due dates on active steps; zoom in,
// zoom out, fit and a full-width view, and a completed step opens its answers (read-only) when clicked.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const container = document.getElementById("case-diagram");
const STEP = 1.25; // each zoom button press scales by this much

function answersOf(element) {
  try {
    return JSON.parse(element.dataset.answers || "{}");
  } catch {
    return {};
  }
}

function controls(viewer) {
  const canvas = viewer.get("canvas");
  const figure = container.closest("figure");
  const fit = () => canvas.zoom("fit-viewport", "auto");
  const zoomBy = (factor) => {
    const current = canvas.zoom();
    canvas.zoom(Math.min(4, Math.max(0.2, current * factor)), "auto");
  };
  const actions = {
    "zoom-in": () => zoomBy(STEP),
    "zoom-out": () => zoomBy(1 / STEP),
    fit,
    wide: (button) => {
      const wide = figure.classList.toggle("rf-figure--wide");
      button.setAttribute("aria-pressed", String(wide));
      button.textContent = wide ? "Normal width" : "Full width";
      canvas.resized();
      fit();
    },
  };
  document.querySelectorAll("[data-diagram-action]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      actions[button.dataset.diagramAction](button);
      container.dataset.zoom = String(Math.round(canvas.zoom() * 1000) / 1000);
    });
  });
}

async function draw() {
  const response = await fetch(container.dataset.diagramUrl, { credentials: "same-origin" });
  if (!response.ok) return;
  const view = await response.json();
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(view.bpmn);
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  const mark = (id, cls) => { if (registry.get(id)) canvas.addMarker(id, cls); };
  view.completed.forEach((id) => mark(id, "rf-done"));
  view.active.forEach((id) => mark(id, "rf-active"));
  view.overdue.forEach((id) => mark(id, "rf-overdue"));
  for (const [id, due] of Object.entries(view.due)) {
    if (!registry.get(id)) continue;
    const badge = document.createElement("span");
    badge.className = "rf-due-badge" + (view.overdue.includes(id) ? " rf-due-badge--overdue" : "");
    badge.textContent = "Due " + new Date(due + "T12:00:00").toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
    overlays.add(id, "due", { position: { top: -12, left: 0 }, html: badge });
  }
  // a completed step opens its answers: the same read-only pages the Steps table links to
  const answers = answersOf(container);
  Object.keys(answers).forEach((id) => mark(id, "rf-has-answers"));
  viewer.get("eventBus").on("element.click", (event) => {
    const href = answers[event.element.id];
    if (href) window.location.assign(href);
  });
  canvas.zoom("fit-viewport", "auto");
  controls(viewer);
  container.dataset.zoom = String(Math.round(canvas.zoom() * 1000) / 1000);
  container.dataset.ready = "true";
}

if (container) draw().catch((error) => { container.dataset.error = String(error); });
