"""Synthetic cards: deterministic by seed, consistent people, marked as specimens."""

from __future__ import annotations

from assistant.documents.application import id_number_valid
from assistant.intake.cards import CARD_KINDS, card_bytes, expected_fields, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind


def test_people_are_deterministic_and_their_id_numbers_valid() -> None:
    assert person_for_seed(7) == person_for_seed(7) != person_for_seed(8)
    for seed in range(50):
        person = person_for_seed(seed)
        assert id_number_valid(person.id_number)
        assert person.id_number[6:14] == f"{person.birth:%Y%m%d}"
        assert (int(person.id_number[16]) % 2 == 1) == (person.sex == "男")


def test_cards_render_the_same_bytes_for_the_same_seed() -> None:
    person = person_for_seed(3)
    for kind in CARD_KINDS:
        for noise in (0, 2):
            first = card_bytes(render_card(kind, person, noise=noise, seed=3), "PNG")
            assert first == card_bytes(render_card(kind, person, noise=noise, seed=3), "PNG")
    assert render_card(DocumentKind.ID_CARD_FRONT, person).size == (856, 540)
    assert render_card(DocumentKind.ID_CARD_FRONT, person, noise=2, seed=3).size == (936, 620)


def test_expected_fields_name_every_required_field() -> None:
    person = person_for_seed(1)
    assert expected_fields(DocumentKind.DRIVING_LICENCE, person)["licence_number"] == person.id_number
    assert set(expected_fields(DocumentKind.ID_CARD_BACK, person)) == {"issuer", "valid_from", "valid_to"}
