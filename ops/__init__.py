"""Operations: train the Rasa model when bot/ changed, start and supervise the whole system."""
