"""汽车金融智能助手 — an AI loan assistant for Chinese auto finance."""

__version__ = "0.1.0"
