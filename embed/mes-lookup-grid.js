
// <mes-lookup-grid lookup="Lots" selection="multi" params="item_id=RM-TOMATO"></mes-lookup-grid>:
// the lookup grid as an
// element, for pages of the portal's origin (appended to mes-embed.js by the portal build).
// The grid lives in the element's shadow root with the portal's stylesheet, so the page's
// styles and the grid's do not meet. `params` is the question, written as a query string.
// Changing `lookup`, `selection` or `params` shows that lookup in the
// same session; `mes-select` fires on the element; removing the element removes the grid.
const stylesheet = new URL("./mes-embed.css", import.meta.url).href;

class MesLookupGrid extends HTMLElement {
  static get observedAttributes() {
    return ["lookup", "selection", "params"];
  }

  options() {
    const options = { lookup: this.getAttribute("lookup") || "" };
    if (this.hasAttribute("selection")) options.selection = this.getAttribute("selection");
    if (this.hasAttribute("params")) options.params = Object.fromEntries(new URLSearchParams(this.getAttribute("params")));
    return options;
  }

  connectedCallback() {
    if (this.grid) return;
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = stylesheet;
    const container = document.createElement("div");
    shadow.replaceChildren(css, container);
    try {
      this.grid = mountLookupGridElement(container, this, this.options());
    } catch (error) {
      // Wrong attributes: said in the element's place (and thrown to the console).
      container.setAttribute("role", "alert");
      container.textContent = `mes-lookup-grid: ${error.message}`;
      this.grid = null;
      console.error(error);
    }
  }

  attributeChangedCallback() {
    if (!this.grid) return;
    try {
      this.grid.update(this.options());
    } catch (error) {
      console.error(error);
    }
  }

  disconnectedCallback() {
    if (this.grid) this.grid.unmount();
    this.grid = null;
    if (this.shadowRoot) this.shadowRoot.replaceChildren();
  }
}

if (!customElements.get("mes-lookup-grid")) customElements.define("mes-lookup-grid", MesLookupGrid);
