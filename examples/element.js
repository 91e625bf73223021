// The page only listens: the element does the rest.
const grid = document.getElementById("lots");
grid.addEventListener("mes-select", (event) => {
  document.getElementById("picked").textContent = event.detail.values.join(", ") || "none";
});
document.getElementById("show-items").addEventListener("click", () => grid.setAttribute("lookup", "Items"));
