"""Voice engines behind livekit-agents interfaces: `offline` (embedded models) and `gemini`."""
