// The case page's diagram: completed, active and overdue steps marked, due dates on active steps.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const container = document.getElementById("case-diagram");

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
  canvas.zoom("fit-viewport");
  container.dataset.ready = "true";
}

if (container) draw().catch((error) => { container.dataset.error = String(error); });
