/* The agent desk: sends the conversation (session id or pasted transcript) and the agent's draft to
   POST /v1/copilot and shows summary, alerts, next actions, profile and sources. */
"use strict";

(() => {
  const { el } = LA;
  const $ = (id) => document.getElementById(id);
  const KEY_STORE = "loan-assistant.desk-key";
  $("api-key").value = sessionStorage.getItem(KEY_STORE) || "";

  function transcript() {
    return $("transcript").value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const m = line.match(/^(客户|坐席|客服|助手|customer|agent|assistant)\s*[:：]\s*(.*)$/i);
      if (!m) return { role: "customer", text: line };
      return { role: /^(客户|customer)$/i.test(m[1]) ? "customer" : "assistant", text: m[2] };
    });
  }

  async function analyse(withDraft) {
    $("desk-error").textContent = "";
    const key = $("api-key").value.trim();
    sessionStorage.setItem(KEY_STORE, key);
    const body = { suggest: !withDraft };
    const sid = $("session-id").value.trim();
    if (sid) body.session_id = sid;
    const lines = transcript();
    if (lines.length) body.transcript = lines;
    if (withDraft && $("draft").value.trim()) body.draft = $("draft").value.trim();
    try {
      const res = await fetch("/v1/copilot", {
        method: "POST", headers: { "Content-Type": "application/json", "X-API-Key": key },
        body: JSON.stringify(body),
      });
      const data = await res.json();
      if (!res.ok) throw new Error((data.error && data.error.message) || `HTTP ${res.status}`);
      show(data, withDraft);
    } catch (err) {
      $("desk-error").textContent = err.message;
    }
  }

  function show(data, keepDraft) {
    $("summary").textContent = data.summary;
    const alerts = data.compliance_alerts || [];
    $("alerts").replaceChildren(...(alerts.length ? alerts.map((a) =>
      el("li", { class: `alert ${a.severity}`, dataset: { code: a.code, source: a.source } },
        el("strong", {}, a.zh), a.evidence ? el("div", { class: "evidence" }, "“" + a.evidence + "”") : null))
      : [el("li", { class: "alert low" }, "未发现问题")]));
    $("actions").replaceChildren(...(data.next_actions || []).map((a) => el("li", { dataset: { code: a.code } }, a.zh)));
    // The server words each fact (首付比例 40%, 预算 15万元); the raw slot name stays as a data attribute.
    const facts = data.facts || [];
    $("slots").tBodies[0].replaceChildren(...(facts.length ? facts.map((f) =>
      el("tr", { dataset: { slot: f.name } }, el("th", { scope: "row" }, f.label), el("td", {}, f.value)))
      : [el("tr", {}, el("td", { class: "empty" }, "暂无"))]));
    $("citations").replaceChildren(LA.citations(data.citations) || el("span", {}, "—"));
    if (!keepDraft) $("draft").value = data.suggested_reply || "";
  }

  $("analyse").addEventListener("click", () => analyse(false));
  $("check-draft").addEventListener("click", () => analyse(true));
})();
