/* The customer's web chat: streams replies from POST /v1/chat/stream (Server-Sent Events over fetch,
   since EventSource cannot POST), then renders the turn's offers, chart, citations and documents. */
"use strict";

(() => {
  const { el } = LA;
  const STORE_KEY = "loan-assistant.session";
  const messages = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  let sessionId = localStorage.getItem(STORE_KEY);
  let busy = false;

  function scrollDown() { messages.scrollTop = messages.scrollHeight; }

  function bubble(role, text) {
    const node = el("div", { class: `msg ${role}` }, el("div", { class: "bubble" }, text));
    messages.append(node);
    scrollDown();
    return node;
  }

  function errorMessage(body, status) {
    const err = body && body.error;
    return (err && err.message) || `请求失败（${status}），请稍后再试 / request failed`;
  }

  function renderTurn(node, turn) {
    node.classList.remove("streaming");
    node.querySelector(".bubble").textContent = turn.reply;
    node.dataset.intent = turn.intent || "";
    const extras = [
      LA.offers(turn.offers),
      LA.repaymentChart(turn.quote),
      LA.citations(turn.citations),
      LA.documents(turn.documents, turn.session_id),
      turn.handoff ? el("div", { class: "handoff-note" }, "已为您转接人工客服，请稍候；工作时间 9:00–21:00。") : null,
    ].filter(Boolean);
    if (extras.length) node.append(el("div", { class: "extras" }, extras));
    if (turn.session_id && turn.session_id !== sessionId) {
      sessionId = turn.session_id;
      localStorage.setItem(STORE_KEY, sessionId);
    }
    scrollDown();
  }

  /* Parse "event: x\ndata: {...}\n\n" blocks from a growing text buffer; returns the unparsed rest. */
  function drainEvents(buffer, onEvent) {
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(type, JSON.parse(data.join("\n")));
    }
    return buffer;
  }

  async function send(text) {
    text = (text || "").trim();
    if (!text || busy) return;
    busy = true;
    sendButton.disabled = true;
    bubble("customer", text);
    const node = bubble("assistant streaming", "");
    const textNode = node.querySelector(".bubble");
    let gotTurn = false;
    try {
      const res = await fetch("/v1/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ message: text, session_id: sessionId || undefined, channel: "web" }),
      });
      if (!res.ok) {
        let body = null;
        try { body = await res.json(); } catch (_) { /* not JSON */ }
        if (res.status === 404 && sessionId) {  // the session expired: start a new one next time
          localStorage.removeItem(STORE_KEY);
          sessionId = null;
        }
        throw new Error(errorMessage(body, res.status));
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = drainEvents(buffer + decoder.decode(value, { stream: true }), (type, data) => {
          if (type === "delta") { textNode.textContent += data.text || ""; scrollDown(); }
          else if (type === "reset") textNode.textContent = "";
          else if (type === "turn") { gotTurn = true; renderTurn(node, data.turn); }
          else if (type === "error") throw new Error(errorMessage(data, 500));
        });
      }
      if (!gotTurn) throw new Error("回复中断，请重试 / the reply was interrupted, please retry");
    } catch (err) {
      node.classList.remove("streaming");
      node.classList.add("error");
      textNode.textContent = err.message;
    } finally {
      busy = false;
      sendButton.disabled = false;
      input.focus();
    }
  }

  async function restore() {
    if (!sessionId) return;
    try {
      const res = await fetch(`/v1/chat/${encodeURIComponent(sessionId)}`);
      if (!res.ok) { localStorage.removeItem(STORE_KEY); sessionId = null; return; }
      const data = await res.json();
      for (const m of data.transcript || []) bubble(m.role === "customer" ? "customer" : "assistant", m.text);
    } catch (_) { /* offline: start fresh */ }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("handoff").addEventListener("click", () => send("转人工"));
  document.getElementById("new-chat").addEventListener("click", () => {
    localStorage.removeItem(STORE_KEY);
    sessionId = null;
    messages.querySelectorAll(".msg:not(.welcome)").forEach((n) => n.remove());
  });
  document.querySelectorAll("#suggestions .chip").forEach((chip) =>
    chip.addEventListener("click", () => send(chip.dataset.text)));

  restore();
})();
