"""Origination: the loan application record, its state machine in use, external checks, chat and API intake."""
