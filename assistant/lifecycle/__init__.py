"""The loan after it is paid out (issue 9): the loan book, monitoring and early warning, collection
strategy under conduct rules, retention offers, and the lending team's dashboard.

- :mod:`.book` — loans (from accepted quotes or CSV), schedules, reconciled repayment events, loan state;
- :mod:`.ledger` — pure: schedule vs payments → days past due, arrears, behaviour features;
- :mod:`.simulate` — a seeded, clearly labelled simulated book with ground truth;
- :mod:`.signals` — collateral values (valuation model behind an interface) and stress flags;
- :mod:`.monitoring` — rules + logistic model → warning levels 1–3 with bilingual reasons; the pass;
- :mod:`.collections` — bucket × willingness / ability → action; conduct rules; priced options;
- :mod:`.retention` — lifetime value; early-settlement, trade-in and referral offers, each with APR;
- :mod:`.dashboard` — SQL aggregates and the HTML page; :mod:`.commands` — the CLI handlers.
"""
