// mes-embed-host.js — shows an MES Web Portal lookup grid in a page of another site.
//
//   <script src="https://mesportal.plant.example/mes-embed-host.js" defer></script>
//   <mes-lookup-frame lookup="Lots" selection="multi" params="status=Released"></mes-lookup-frame>
//
// The element holds an iframe of the portal's /embed/lookup page (the grid, its sign-in by
// popup and its states), sizes it to its content, and turns the frame's messages into DOM
// events on itself: `mes-select` (detail: { values, rows }) and `mes-state` (detail: { state }).
// `params` is the question, as a query string. Changing `lookup`, `selection` or `params` shows
// the new lookup in the same session. The page's origin
// must be listed in the portal's config.json `embed_origins` (docs/embedding.md). Tokens never
// reach this page: they stay in the frame.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) {
    console.error("mes-embed-host.js must be loaded with a <script src> tag");
    return;
  }
  const portal = new URL(script.src).origin;
  const KNOWN = new Set(["mes-ready", "mes-height", "mes-state", "mes-select"]);

  class MesLookupFrame extends HTMLElement {
    static get observedAttributes() {
      return ["lookup", "selection", "params"];
    }

    connectedCallback() {
      if (this.frame) return;
      this.ready = false;
      const url = new URL("/embed/lookup", portal);
      url.searchParams.set("name", this.getAttribute("lookup") || "");
      if (this.hasAttribute("selection")) url.searchParams.set("selection", this.getAttribute("selection"));
      // The question (`params="item_id=RM-TOMATO"`) as the frame's `p.<name>` values.
      for (const [name, value] of this.params()) url.searchParams.append(`p.${name}`, value);
      const frame = document.createElement("iframe");
      frame.src = url.href;
      frame.title = this.getAttribute("title") || `MES lookup: ${this.getAttribute("lookup") || ""}`;
      frame.style.cssText = "display:block;width:100%;border:0;height:20rem";
      this.frame = frame;
      this.onMessage = (event) => {
        // Only this element's frame, only from the portal, only known shapes.
        if (event.source !== frame.contentWindow || event.origin !== portal) return;
        const data = event.data;
        if (!data || typeof data !== "object" || !KNOWN.has(data.type)) return;
        if (data.type === "mes-ready") {
          this.ready = true;
          clearInterval(this.hello);
        } else if (data.type === "mes-height" && Number.isFinite(data.height)) {
          frame.style.height = `${Math.max(0, Math.min(data.height, 10000))}px`;
        } else if (data.type === "mes-state" && typeof data.state === "string") {
          this.setAttribute("state", data.state);
          this.dispatchEvent(new CustomEvent("mes-state", { bubbles: true, detail: { state: data.state } }));
        } else if (data.type === "mes-select" && Array.isArray(data.values) && Array.isArray(data.rows)) {
          this.dispatchEvent(new CustomEvent("mes-select", { bubbles: true, detail: { values: data.values, rows: data.rows } }));
        }
      };
      window.addEventListener("message", this.onMessage);
      // Hello until the frame answers: its code may still be loading when the first one arrives.
      const sayHello = () => frame.contentWindow && frame.contentWindow.postMessage({ type: "mes-hello" }, portal);
      frame.addEventListener("load", sayHello);
      this.hello = setInterval(sayHello, 250);
      this.giveUp = setTimeout(() => clearInterval(this.hello), 60000);
      this.appendChild(frame);
    }

    attributeChangedCallback() {
      if (!this.frame || !this.ready) return;
      const message = { type: "mes-lookup", lookup: this.getAttribute("lookup") || "" };
      if (this.hasAttribute("selection")) message.selection = this.getAttribute("selection");
      message.params = Object.fromEntries(this.params());
      this.frame.contentWindow.postMessage(message, portal);
    }

    params() {
      return new URLSearchParams(this.getAttribute("params") || "");
    }

    disconnectedCallback() {
      clearInterval(this.hello);
      clearTimeout(this.giveUp);
      window.removeEventListener("message", this.onMessage);
      if (this.frame) this.frame.remove();
      this.frame = null;
    }
  }

  if (!customElements.get("mes-lookup-frame")) customElements.define("mes-lookup-frame", MesLookupFrame);
})();
