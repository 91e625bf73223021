// Embedding an MES lookup grid in a plain page of the portal's origin.
// `/mes-embed.js` is written by the portal build next to index.html.
import { mountLookupGrid } from "/mes-embed.js";

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
