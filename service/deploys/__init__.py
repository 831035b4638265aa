"""Plans and optimistic-concurrency deploys (the heart of fcplane)."""
