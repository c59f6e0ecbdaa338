"""The load and reliability harness behind `interviewer bench`: the simulated candidate (candidate.py), its
speech (speech_sim.py), the session runner and its statistics (runner.py, stats.py) and the impaired network
for candidates (netimpair.py)."""
