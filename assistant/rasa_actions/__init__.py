"""rasa-sdk custom actions over the tool registry, and the loan form's slot validation."""
