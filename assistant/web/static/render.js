/* Rendering helpers shared by the chat page and the agent desk: offer cards, the repayment chart,
   citations with a popover, document links. Plain DOM, no framework; every text goes in as text. */
"use strict";

const LA = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";

  const BODY = { suv: "SUV", sedan: "轿车", mpv: "MPV", hatchback: "两厢车", pickup: "皮卡" };
  const ENERGY = { ice: "燃油", bev: "纯电", phev: "插混/增程", hev: "油电混动", nev: "新能源" };
  const CONDITION = { new: "新车", used: "二手车" };
  const DOC_KIND = {
    loan_contract: "贷款合同", risk_disclosure: "风险提示书",
    repayment_schedule: "还款计划表", privacy_consent: "个人信息授权书",
  };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  function num(value) {
    const n = typeof value === "string" ? Number(value) : value;
    return Number.isFinite(n) ? n : null;
  }

  function yuan(value) {
    const n = num(value);
    if (n === null) return "—";
    return n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " 元";
  }

  function wan(value) {
    const n = num(value);
    if (n === null) return "—";
    return n >= 10000 ? (n / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 2 }) + " 万元" : yuan(n);
  }

  function pct(value) {
    const n = num(value);
    return n === null ? "—" : (n * 100).toFixed(2) + "%";
  }

  /* ---------------------------------------------------------------- offer cards */
  function reasonText(reason) {  // a plain string, or {code, zh, en}
    if (reason && typeof reason === "object") return reason.zh || reason.en || reason.code || "";
    return String(reason);
  }

  function offerCard(offer, index) {
    const v = offer.vehicle || {};
    const p = offer.product || {};
    const title = [v.brand, v.series].filter(Boolean).join(" ") || "推荐方案 " + (index + 1);
    const badges = [BODY[v.body_type] || v.body_type, ENERGY[v.energy_type] || v.energy_type,
      CONDITION[v.condition] || v.condition].filter(Boolean);
    const reasons = Array.isArray(offer.reasons) ? offer.reasons : [];
    return el("article", { class: "offer-card", dataset: { index: String(index) } },
      el("header", { class: "offer-head" },
        el("h4", { class: "offer-car" }, title),
        el("div", { class: "badges" }, badges.map((b) => el("span", { class: "badge" }, b)))),
      el("div", { class: "offer-main" },
        el("div", { class: "offer-monthly" },
          el("span", { class: "label" }, "月供"),
          el("strong", { class: "value monthly-payment" }, yuan(offer.monthly_payment))),
        el("div", { class: "offer-apr" },
          el("span", { class: "label" }, "年化利率(IRR)"),
          el("strong", { class: "value apr" }, pct(offer.apr)))),
      el("dl", { class: "offer-facts" },
        el("dt", {}, "车价"), el("dd", {}, wan(offer.vehicle_price)),
        el("dt", {}, "首付"), el("dd", {}, wan(offer.down_payment)),
        el("dt", {}, "贷款额"), el("dd", {}, wan(offer.loan_amount)),
        el("dt", {}, "期数"), el("dd", {}, offer.term_months ? offer.term_months + " 期" : "—"),
        el("dt", {}, "总利息"), el("dd", { class: "total-interest" }, yuan(offer.total_interest)),
        num(offer.upfront_fees) ? el("dt", {}, "前期费用") : null,
        num(offer.upfront_fees) ? el("dd", { class: "upfront-fees" }, yuan(offer.upfront_fees)) : null,
        el("dt", {}, "产品"), el("dd", {}, p.name || p.id || "—")),
      reasons.length ? el("ul", { class: "offer-reasons" }, reasons.slice(0, 4).map((r) => el("li", {}, reasonText(r))))
        : null);
  }

  function offers(list) {
    if (!Array.isArray(list) || !list.length) return null;
    return el("div", { class: "offers" }, list.map(offerCard));
  }

  /* ---------------------------------------------------------------- repayment chart */
  function scheduleOf(quote) {
    if (!quote) return [];
    const rows = quote.schedule || (quote.summary && quote.summary.schedule) || quote.rows || [];
    return rows.map((r) => ({
      period: num(r.period), payment: num(r.payment) || 0, principal: num(r.principal) || 0,
      interest: num(r.interest) || 0, balance: num(r.balance) || 0,
    })).filter((r) => r.period !== null);
  }

  function repaymentChart(quote) {
    const rows = scheduleOf(quote);
    if (!rows.length) return null;
    const summary = quote.summary || quote;
    const W = 560, H = 240, left = 56, right = 52, top = 16, bottom = 34;
    const plotW = W - left - right, plotH = H - top - bottom;
    const maxPay = Math.max(...rows.map((r) => r.principal + r.interest)) || 1;
    const maxBal = Math.max(...rows.map((r) => r.balance), rows[0].balance + rows[0].principal) || 1;
    const step = plotW / rows.length;
    const barW = Math.max(1, step * 0.72);
    const chart = svg("svg", { class: "repayment-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `还款计划：共${rows.length}期` });
    chart.append(svg("title", {}, `还款计划（${rows.length}期）：每期本金与利息，折线为剩余本金`));
    for (let i = 0; i <= 4; i++) {  // grid and left axis (payment)
      const y = top + plotH - (plotH * i) / 4;
      chart.append(svg("line", { x1: left, x2: left + plotW, y1: y, y2: y, class: "grid" }));
      chart.append(svg("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" },
        Math.round((maxPay * i) / 4).toLocaleString("zh-CN")));
      chart.append(svg("text", { x: left + plotW + 6, y: y + 4, class: "axis" },
        ((maxBal * i) / 4 / 10000).toFixed(1) + "万"));
    }
    rows.forEach((r, i) => {
      const x = left + i * step + (step - barW) / 2;
      const hp = (r.principal / maxPay) * plotH, hi = (r.interest / maxPay) * plotH;
      const tip = `第${r.period}期 月供${r.payment.toFixed(2)}元（本金${r.principal.toFixed(2)}，利息${r.interest.toFixed(2)}），剩余${r.balance.toFixed(2)}元`;
      const g = svg("g", { class: "bar" }, svg("title", {}, tip));
      g.append(svg("rect", { x, y: top + plotH - hp, width: barW, height: hp, class: "principal" }));
      g.append(svg("rect", { x, y: top + plotH - hp - hi, width: barW, height: hi, class: "interest" }));
      chart.append(g);
    });
    const points = rows.map((r, i) => `${(left + i * step + step / 2).toFixed(1)},${(top + plotH - (r.balance / maxBal) * plotH).toFixed(1)}`);
    chart.append(svg("polyline", { points: points.join(" "), class: "balance" }));
    const ticks = rows.length <= 12 ? rows : rows.filter((r) => r.period === 1 || r.period % 12 === 0);
    ticks.forEach((r) => {
      const x = left + (r.period - 1) * step + step / 2;
      chart.append(svg("text", { x, y: H - bottom + 16, class: "axis", "text-anchor": "middle" }, r.period));
    });
    chart.append(svg("text", { x: left + plotW / 2, y: H - 4, class: "axis", "text-anchor": "middle" }, "期数"));

    const totalInterest = summary.total_interest ?? rows.reduce((s, r) => s + r.interest, 0);
    return el("figure", { class: "quote-chart" },
      el("figcaption", {},
        el("strong", {}, "还款计划"),
        el("span", {}, ` 首月月供 ${yuan(summary.monthly_payment ?? rows[0].payment)}`),
        el("span", {}, ` · 总利息 ${yuan(totalInterest)}`),
        summary.apr !== undefined ? el("span", { class: "apr" }, ` · 年化利率(IRR) ${pct(summary.apr)}`) : null),
      chart,
      el("div", { class: "legend" },
        el("span", { class: "key principal" }, "本金"),
        el("span", { class: "key interest" }, "利息"),
        el("span", { class: "key balance" }, "剩余本金")));
  }

  /* ---------------------------------------------------------------- citations */
  const popover = () => document.getElementById("popover");

  function closePopover() {
    const pop = popover();
    if (pop) pop.hidden = true;
  }

  /* Below the anchor, or above it when the viewport has no room below (a citation in the newest reply sits
     just above the chat's composer); always inside the viewport horizontally. */
  function placePopover(pop, anchor) {
    const rect = anchor.getBoundingClientRect();
    const height = pop.offsetHeight, width = pop.offsetWidth;
    const below = rect.bottom + 6 + height <= window.innerHeight || rect.top - 6 - height < 0;
    const top = below ? rect.bottom + 6 : rect.top - 6 - height;
    pop.style.top = `${window.scrollY + top}px`;
    pop.style.left = `${window.scrollX + Math.max(8, Math.min(rect.left, window.innerWidth - width - 8))}px`;
  }

  async function openCitation(citation, anchor) {
    const pop = popover();
    if (!pop) return;
    pop.querySelector(".popover-title").textContent = citation.title || citation.doc_id;
    const body = pop.querySelector(".popover-body");
    body.replaceChildren(el("p", { class: "snippet" }, citation.snippet || ""));
    pop.hidden = false;
    placePopover(pop, anchor);
    // The full article, when the knowledge base serves it; otherwise the snippet is what we show.
    try {
      const res = await fetch(`/v1/kb/doc/${encodeURIComponent(citation.doc_id)}`);
      if (!res.ok) return;
      const type = res.headers.get("content-type") || "";
      const doc = type.includes("json") ? await res.json() : { text: await res.text() };
      const text = doc.text || doc.content || doc.body || "";
      if (text && !pop.hidden) {
        body.append(el("div", { class: "doc-text" }, text.slice(0, 4000)));
        placePopover(pop, anchor);
      }
    } catch (_) { /* offline or absent: the snippet stays */ }
  }

  function citations(list) {
    if (!Array.isArray(list) || !list.length) return null;
    return el("div", { class: "citations" }, el("span", { class: "label" }, "依据："),
      list.map((c, i) => el("button", { type: "button", class: "citation", title: c.title,
        onclick: (ev) => { ev.stopPropagation(); openCitation(c, ev.currentTarget); } },
        `[${i + 1}] ${c.title || c.doc_id}`)));
  }

  /* ---------------------------------------------------------------- documents */
  function documents(list, sessionId) {
    if (!Array.isArray(list) || !list.length) return null;
    return el("div", { class: "documents" }, list.map((d) => {
      let href = d.url;
      if (sessionId && href && !href.includes("session_id=")) {  // the session id is the customer's key
        href += (href.includes("?") ? "&" : "?") + "session_id=" + encodeURIComponent(sessionId);
      }
      return el("a", { class: "doc-link", href, target: "_blank", rel: "noopener", download: "" },
        "下载 · " + (DOC_KIND[d.kind] || d.kind));
    }));
  }

  document.addEventListener("click", (ev) => {
    const pop = popover();
    if (!pop || pop.hidden) return;
    if (ev.target.closest(".popover-close") || !ev.target.closest(".popover")) closePopover();
  });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") closePopover(); });

  return { el, yuan, wan, pct, offers, repaymentChart, citations, documents, DOC_KIND };
})();
