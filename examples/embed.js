// Embedding an MES lookup grid in a plain page of the portal's origin.
// `/mes-embed.js` is written by the portal build next to index.html.
import { mountLookupGrid, mountRowsGrid } from "/mes-embed.js";

const host = document.getElementById("lots");
const picked = document.getElementById("picked");

// Names a lookup from config.json; "selection" overrides its single/multi setting.
const unmount = mountLookupGrid(host, { lookup: "Lots", selection: "multi" });

// detail.values: the value column of each selected row; detail.rows: { column: text } per row.
host.addEventListener("mes-select", (event) => {
  const { values, rows } = event.detail;
  picked.textContent = values.length ? values.join(", ") : "none";
  picked.dataset.rows = String(rows.length);
});

// The grid and its tokens go away with the page; call unmount() to remove it sooner.
window.addEventListener("pagehide", () => unmount());

// Rows the page has itself: objects (or JSON text, or a stream such as a fetch's response.body).
mountRowsGrid(document.getElementById("checklist"), {
  rows: [
    { step: 1, task: "Count open lots on the line", done: true },
    { step: 2, task: "Hand over the picked lots", done: false },
    { step: 3, task: "Sign the shift log", done: false },
  ],
  value: "task",
});
