"""Offline natural-language understanding: intents, slots and numbers in Chinese-first customer text.

Entry point: :class:`assistant.nlu.parser.NLU` (``services.nlu``) and its ``parse(text,
expected_slot=None)``; the pieces are :mod:`~assistant.nlu.numbers` (十五万 / 三成 / 两年半 → numbers),
:mod:`~assistant.nlu.slots` (numbers and words → contract slots) and :mod:`~assistant.nlu.intent`
(embeddings + character n-grams → intent).
"""
