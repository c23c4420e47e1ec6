/* The loan officer's workbench on the desk: queues (GET /v1/applications), one application with its risk
   score, fraud signals, documents and history (GET /v1/applications/{id}, …/documents) and the decision
   (POST …/decision). Every call carries the desk's HttpOnly login cookie; the officer is that key, so no
   body names them. Personal data arrives masked from the API and is shown as it arrives. */
"use strict";

(() => {
  const { el } = LA;
  const $ = (id) => document.getElementById(id);
  const QUEUES = {
    submitted: "status=submitted",
    under_review: "status=under_review",
    flagged: "fraud=flagged&status=submitted&status=under_review",
  };
  const FRAUD_ZH = { pass: "通过", review: "需人工复核", decline: "建议拒绝" };
  const RISK_ZH = { approve: "建议批准", review: "需人工复核", decline: "建议拒绝" };
  const STATUS_ZH = {
    draft: "草稿", submitted: "待审核", under_review: "审核中", approved: "已批准", declined: "已拒绝",
    withdrawn: "已撤回", contract_issued: "合同已出具", signed: "已签署",
  };
  const NOT_CHECKED_ZH = {
    id_number: "身份证号", phone: "手机号", device: "设备", collateral_valuation: "抵押车估值",
    monthly_income: "月收入", age: "年龄", employment_type: "职业类型", vehicle_price: "车价",
    figures_out_of_range: "数据超出检查范围",
  };
  const FIELD_ZH = { name: "姓名", sex: "性别", ethnicity: "民族", birth_date: "出生日期", address: "住址",
    id_number: "身份证号", issuer: "签发机关", valid_from: "有效期起", valid_to: "有效期至",
    licence_number: "驾驶证号", vehicle_class: "准驾车型" };
  let queue = "submitted";
  let current = null;

  async function api(path, options) {
    const res = await fetch(path, { credentials: "same-origin", ...(options || {}) });
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    if (!res.ok) throw new Error((body && body.error && body.error.message) || `请求失败（${res.status}）`);
    return body;
  }

  const lines = (id) => $(id).value.split("\n").map((s) => s.trim()).filter(Boolean);
  const yuan = (v) => (v == null ? "—" : `${Number(v).toLocaleString("zh-CN")}元`);

  function signalList(signals) {
    return (signals || []).map((s) => el("li", { class: `signal ${s.severity}`, dataset: { code: s.code } },
      el("code", {}, s.code), " ", s.zh));
  }

  function queueItem(item) {
    const fraud = item.fraud_decision
      ? el("span", { class: `badge fraud-${item.fraud_decision}` }, `反欺诈：${FRAUD_ZH[item.fraud_decision]}`) : null;
    const risk = item.risk_grade
      ? el("span", { class: "badge" }, `评分 ${item.risk_score ?? "—"}（${item.risk_grade}，${RISK_ZH[item.risk_decision] || "—"}）`)
      : el("span", { class: "badge" }, "未评分");
    const node = el("li", { class: "queue-item", dataset: { id: item.application_id } },
      el("div", { class: "queue-head" }, el("strong", {}, item.reference), " ", item.vehicle || "车辆未定", " · ",
        yuan(item.principal), ` · ${item.term_months}期`),
      el("div", { class: "queue-badges" }, risk, fraud),
      item.fraud_signals.length ? el("ul", { class: "signals" }, signalList(item.fraud_signals)) : null);
    node.addEventListener("click", () => open(item.application_id));
    return node;
  }

  /* A handed-off chat: with the copilot on this desk, a click analyses that session there. */
  function handoffItem(h) {
    const when = new Date(h.updated_at).toLocaleString("zh-CN", { hour12: false });
    const node = el("li", { class: "queue-item handoff-item", dataset: { session: h.session_id } },
      el("div", { class: "queue-head" }, el("strong", {}, "转人工"), ` · ${h.channel} · ${when}`),
      el("div", { class: "queue-badges" }, h.reason ? el("span", { class: "badge" }, `原因：${h.reason}`) : null,
        h.application_reference ? el("span", { class: "badge" },
          `申请 ${h.application_reference}（${STATUS_ZH[h.application_status] || h.application_status}）`) : null),
      el("div", { class: "session-id" }, `会话 ${h.session_id}`));
    node.addEventListener("click", () => {
      const sid = $("session-id");
      if (!sid) return;
      sid.value = h.session_id;
      $("transcript").value = "";
      $("analyse").click();
      sid.scrollIntoView({ behavior: "smooth" });
    });
    return node;
  }

  async function loadQueue() {
    $("case-error").textContent = "";
    if (queue === "handoffs") {
      try {
        const items = await api("/v1/handoffs?limit=50");
        $("queue-total").textContent = `共 ${items.length} 个会话`;
        $("queue").replaceChildren(...(items.length ? items.map(handoffItem) : [el("li", { class: "empty" }, "暂无")]));
      } catch (err) {
        $("queue-total").textContent = err.message;
      }
      return;
    }
    try {
      const page = await api(`/v1/applications?${QUEUES[queue]}&limit=50`);
      $("queue-total").textContent = `共 ${page.total} 件`;
      $("queue").replaceChildren(...(page.items.length ? page.items.map(queueItem)
        : [el("li", { class: "empty" }, "暂无")]));
    } catch (err) {
      $("queue-total").textContent = err.message;
    }
  }

  function riskBlock(risk) {
    if (!risk) return el("p", {}, "未评分（申请人未授权预评估或信息不足）");
    return el("div", {}, el("p", {}, `评分 ${risk.score} · 等级 ${risk.grade} · 违约概率 ${(risk.probability_of_default * 100).toFixed(1)}% · ${RISK_ZH[risk.decision]}`),
      el("ul", { class: "reasons" }, (risk.reasons || []).map((r) => el("li", {}, r))));
  }

  function fraudBlock(fraud) {
    if (!fraud) return [el("li", {}, "未做反欺诈检查")];
    const missing = (fraud.not_checked || []).map((n) => NOT_CHECKED_ZH[n] || n).join("、");
    if (!fraud.assessment) return [el("li", {}, `未评估：缺少${missing}`)];
    const a = fraud.assessment;
    const head = el("li", { class: `fraud-summary fraud-${a.decision}` },
      `欺诈评分 ${(a.score * 100).toFixed(1)}% · ${FRAUD_ZH[a.decision]}${missing ? `（未能核查：${missing}）` : ""}`);
    const signals = signalList(a.signals);
    return [head, ...(signals.length ? signals : [el("li", {}, "未发现信号")])];
  }

  function docsBlock(docs) {
    if (!docs.documents.length) return el("p", {}, "尚未上传材料");
    const KIND = { id_card_front: "身份证人像面", id_card_back: "身份证国徽面", driving_licence: "驾驶证",
      income_proof: "收入证明", vehicle_registration: "机动车登记证书" };
    return el("div", {},
      ...docs.documents.map((d) => el("div", { class: "doc", dataset: { kind: d.kind } },
        el("strong", {}, KIND[d.kind] || d.kind),
        el("dl", {}, Object.entries(d.fields).flatMap(([k, v]) => [el("dt", {}, FIELD_ZH[k] || k), el("dd", {}, v)])))),
      el("ul", { class: "mismatches" }, docs.mismatches.map((m) =>
        el("li", { class: "mismatch", dataset: { code: m.code } }, m.message))));
  }

  async function open(id) {
    $("case-error").textContent = "";
    $("case-result").textContent = "";
    try {
      const [app, docs] = await Promise.all([api(`/v1/applications/${id}`), api(`/v1/applications/${id}/documents`)]);
      current = app;
      const t = app.terms;
      const p = app.personal || {};
      $("case").hidden = false;
      $("case").dataset.id = id;
      $("case-title").textContent = `申请 ${app.reference} · ${STATUS_ZH[app.status] || app.status}`;
      $("case-summary").textContent = [
        p.name ? `申请人 ${p.name}` : null, p.id_number ? `身份证 ${p.id_number}` : null,
        t.vehicle ? `${t.vehicle.brand} ${t.vehicle.series}，车价${yuan(t.vehicle.price)}` : null,
        `贷款${yuan(t.principal)}，${t.term_months}期，月供${yuan(t.monthly_payment)}，年化${(Number(t.apr) * 100).toFixed(2)}%`,
        app.profile.monthly_income ? `月收入${yuan(app.profile.monthly_income)}` : null,
      ].filter(Boolean).join("；");
      $("case-risk").replaceChildren(riskBlock(app.risk));
      $("case-fraud").replaceChildren(...fraudBlock(app.fraud));
      $("case-docs").replaceChildren(docsBlock(docs));
      $("case-events").replaceChildren(...(app.events || []).map((e) =>
        el("li", {}, `${STATUS_ZH[e.to_status] || e.to_status} · ${e.action} · ${e.actor}${e.actor_id ? `:${e.actor_id}` : ""}${e.reason ? ` · ${e.reason}` : ""}`)));
      const editable = ["submitted", "under_review"].includes(app.status);
      for (const b of ["approve", "decline", "request-documents"]) $(b).disabled = !editable;
    } catch (err) {
      $("case-error").textContent = err.message;
    }
  }

  async function decide(outcome) {
    if (!current) return;
    $("case-error").textContent = "";
    const body = { outcome, version: current.version };
    if (outcome === "approve") body.conditions = lines("decision-conditions");
    if (outcome === "decline") body.reasons = lines("decision-reasons");
    if (outcome === "request_documents") body.documents = lines("decision-documents");
    try {
      const app = await api(`/v1/applications/${current.application_id}/decision`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      $("case-result").textContent = `已处理：${STATUS_ZH[app.status] || app.status}。客户将看到：${app.customer_message}`;
      for (const id of ["decision-conditions", "decision-reasons", "decision-documents"]) $(id).value = "";
      current = app;
      await loadQueue();
      await open(app.application_id);
      $("case-result").textContent = `已处理：${STATUS_ZH[app.status] || app.status}。客户将看到：${app.customer_message}`;
    } catch (err) {
      $("case-error").textContent = err.message;
    }
  }

  document.querySelectorAll(".queue-tabs .tab").forEach((tab) => tab.addEventListener("click", () => {
    queue = tab.dataset.queue;
    document.querySelectorAll(".queue-tabs .tab").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    loadQueue();
  }));
  $("queue-refresh").addEventListener("click", loadQueue);
  $("approve").addEventListener("click", () => decide("approve"));
  $("decline").addEventListener("click", () => decide("decline"));
  $("request-documents").addEventListener("click", () => decide("request_documents"));
  loadQueue();
})();
