"""``loan-assistant train nlu``: retrain the intent classifier from eval/nlu/utterances.jsonl (train split)
plus the training-only eval/nlu/augment/*.jsonl."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assistant.nlu.dataset import augment_paths, default_path, training_set
from assistant.nlu.intent import ARTIFACT_NAME, Embedder, save_artifact, train_artifact


def artifact_path(models_dir: Path) -> Path:
    """Where the shipped intent model lives (``assistant/models/nlu/intent.joblib``)."""
    return models_dir / "nlu" / ARTIFACT_NAME


def train(data_path: Path, out_path: Path, *, augment: list[Path] | None = None,
          embedder: Embedder | None = None) -> dict:
    """Train on the train split of ``data_path`` plus ``augment``, write ``out_path``; returns the meta."""
    rows, dropped = training_set(data_path, augment)
    texts = [r.text for r in rows]
    started = time.perf_counter()
    embeddings = (embedder or Embedder(cache_size=0)).encode(texts)
    embed_s = time.perf_counter() - started
    artifact = train_artifact(texts, [r.intent for r in rows], np.asarray(embeddings))
    artifact["meta"]["embed_seconds"] = round(embed_s, 1)
    artifact["meta"]["augment_dropped_as_test_duplicates"] = dropped
    save_artifact(artifact, out_path)
    return artifact["meta"]


def train_command(args: argparse.Namespace) -> int:
    """CLI handler."""
    from assistant.settings import get_settings

    settings = get_settings()
    data = Path(args.data) if getattr(args, "data", None) else default_path(settings.resources_dir)
    out = Path(args.out) if getattr(args, "out", None) else artifact_path(settings.models_dir)
    # The augment files belong to the shipped data set; a custom --data trains on that file alone.
    augment = None if getattr(args, "data", None) else augment_paths(settings.resources_dir)
    meta = train(data, out, augment=augment)
    size_kb = out.stat().st_size / 1024
    print(f"意图模型已训练 / intent model trained: {out} ({size_kb:.0f} KiB)")
    print(f"  train utterances          {meta['train_size']} "
          f"({meta['augment_dropped_as_test_duplicates']} augment lines dropped as near-copies of test lines)")
    print(f"  5-fold CV accuracy        {meta['cv_accuracy']:.4f} (C={meta['C']}, grid={meta['grid']})")
    print(f"  n-gram fall-back CV acc.  {meta['fallback_cv_accuracy']:.4f}")
    cascade = meta["cascade"]
    print(f"  cascade threshold         {cascade['threshold']} (skip the embedding when the n-gram model is "
          f"that sure; CV table (threshold, skipped, accuracy): {cascade['table (threshold, skipped, accuracy)']})")
    print(f"  embedding time            {meta['embed_seconds']} s")
    return 0
