/* The customer's web chat: streams replies from POST /v1/chat/stream (Server-Sent Events over fetch,
   since EventSource cannot POST), then renders the turn's offers, chart, citations and documents. On a
   reload the history (GET /v1/chat/{id}) brings each reply's parts back, and they are drawn again.
   Only the message pane scrolls (the page is one viewport high); it follows the newest message unless
   the reader has scrolled up to read something older. */
"use strict";

(() => {
  const { el } = LA;
  const STORE_KEY = "loan-assistant.session";
  const FOLLOW_SLACK = 48;  // px from the bottom that still counts as "reading the newest"
  const messages = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const suggestions = document.getElementById("suggestions");
  let sessionId = localStorage.getItem(STORE_KEY);
  let busy = false;
  let follow = true;

  function scrollDown(force) {
    if (force) follow = true;
    if (follow) messages.scrollTop = messages.scrollHeight;
  }
  messages.addEventListener("scroll", () => {
    follow = messages.scrollHeight - messages.scrollTop - messages.clientHeight <= FOLLOW_SLACK;
  });
  // Anything added to the pane (a delta, offer cards, a chart) or a pane that got shorter (the input grew,
  // a phone's keyboard opened) keeps the newest message in view.
  new MutationObserver(() => scrollDown()).observe(messages, { childList: true, subtree: true, characterData: true });
  new ResizeObserver(() => scrollDown()).observe(messages);

  function started(yes) {  // the suggestion chips are for an empty conversation only
    suggestions.hidden = yes;
  }

  function bubble(role, text) {
    const node = el("div", { class: `msg ${role}` }, el("div", { class: "bubble" }, text));
    messages.append(node);
    return node;
  }

  function errorMessage(body, status) {
    const err = body && body.error;
    return (err && err.message) || `请求失败（${status}），请稍后再试 / request failed`;
  }

  /* The parts drawn under a reply: from a turn just streamed, or from the history on reload. */
  function appendParts(node, parts, sid) {
    const extras = [
      LA.offers(parts.offers),
      LA.repaymentChart(parts.quote),
      LA.citations(parts.citations),
      LA.documents(parts.documents, sid),
      parts.handoff ? el("div", { class: "handoff-note" }, "已为您转接人工客服，请稍候；工作时间 9:00–21:00。") : null,
    ].filter(Boolean);
    if (extras.length) node.append(el("div", { class: "extras" }, extras));
  }

  function renderTurn(node, turn) {
    node.classList.remove("streaming");
    node.querySelector(".bubble").textContent = turn.reply;
    node.dataset.intent = turn.intent || "";
    appendParts(node, turn, turn.session_id);
    if (turn.session_id && turn.session_id !== sessionId) {
      sessionId = turn.session_id;
      localStorage.setItem(STORE_KEY, sessionId);
    }
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
    started(true);
    bubble("customer", text);
    const node = bubble("assistant streaming", "");
    scrollDown(true);  // one's own message always brings the pane to the bottom
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
          if (type === "delta") textNode.textContent += data.text || "";
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
      const transcript = data.transcript || [];
      for (const m of transcript) {
        const node = bubble(m.role === "customer" ? "customer" : "assistant", m.text);
        if (m.parts) appendParts(node, m.parts, sessionId);
      }
      if (transcript.length) started(true);
      scrollDown(true);
    } catch (_) { /* offline: start fresh */ }
  }

  /* The input grows with what is typed (up to its CSS max-height), and its hint is the longest of the
     page's placeholders that fits on one line: a clipped hint reads as a broken page. */
  function fitInput() {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + input.offsetHeight - input.clientHeight}px`;
  }
  const placeholders = JSON.parse(input.dataset.placeholders || "[]");
  const measure = document.createElement("canvas").getContext("2d");
  function fitPlaceholder() {
    if (!placeholders.length) return;
    const style = getComputedStyle(input);
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    measure.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    input.placeholder = placeholders.find((p) => measure.measureText(p).width <= room) || placeholders.at(-1);
  }
  new ResizeObserver(fitPlaceholder).observe(input);
  input.addEventListener("input", fitInput);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value;
    input.value = "";
    fitInput();
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
    started(false);
    input.focus();
  });
  document.querySelectorAll("#suggestions .chip").forEach((chip) =>
    chip.addEventListener("click", () => send(chip.dataset.text)));

  /* Upload an ID card / driving licence photo to this session's application (the intake endpoint, with
     the session as the bearer): the reply names the fields read (masked) and any mismatch in plain words. */
  const uploadRow = document.getElementById("upload-row");
  const uploadFile = document.getElementById("upload-file");
  const KIND_ZH = { id_card_front: "身份证人像面", id_card_back: "身份证国徽面", driving_licence: "驾驶证" };
  const FIELD_ZH = { name: "姓名", sex: "性别", ethnicity: "民族", birth_date: "出生日期", address: "住址",
    id_number: "身份证号", issuer: "签发机关", valid_from: "有效期起", valid_to: "有效期至",
    licence_number: "驾驶证号", vehicle_class: "准驾车型" };
  document.getElementById("upload").addEventListener("click", () => {
    uploadRow.hidden = !uploadRow.hidden;
    if (!uploadRow.hidden) uploadFile.focus();
  });

  async function upload(file) {
    started(true);
    const kind = document.getElementById("upload-kind").value;
    bubble("customer", `上传${KIND_ZH[kind]}：${file.name}`);
    const node = bubble("assistant upload-note", "正在识别证件，请稍候…");
    scrollDown(true);
    const say = (text) => { node.querySelector(".bubble").textContent = text; };
    try {
      if (!sessionId) throw new Error("您还没有贷款申请。请先在对话中选好方案并提交申请，再上传证件。");
      const found = await fetch(`/v1/chat/${encodeURIComponent(sessionId)}/application`);
      if (found.status === 404) throw new Error("您还没有贷款申请。请先在对话中选好方案并提交申请，再上传证件。");
      const app = await found.json();
      if (!found.ok) throw new Error(errorMessage(app, found.status));
      const form = new FormData();
      form.append("kind", kind);
      form.append("file", file);
      const res = await fetch(`/v1/applications/${app.application_id}/documents`,
        { method: "POST", headers: { "X-Session-ID": sessionId }, body: form });
      const doc = await res.json();
      if (!res.ok) throw new Error(errorMessage(doc, res.status));
      const fields = Object.entries(doc.fields).map(([k, v]) => `${FIELD_ZH[k] || k}：${v}`).join("；");
      const problems = doc.mismatches.map((m) => m.message.split(" / ")[0]);
      say([`已收到您的${KIND_ZH[kind]}（申请编号${app.reference}）。`,
        fields ? `识别到：${fields}。` : "未能识别出证件上的文字，请在光线充足处重新拍摄。",
        problems.length ? `请注意：${problems.join("；")}。审核专员会与您核对。` : "证件信息与申请一致。",
      ].join("\n"));
      node.dataset.documentId = doc.document_id;
    } catch (err) {
      node.classList.add("error");
      say(err.message);
    } finally {
      uploadFile.value = "";
    }
  }
  uploadFile.addEventListener("change", () => { if (uploadFile.files[0]) upload(uploadFile.files[0]); });

  restore();
})();
