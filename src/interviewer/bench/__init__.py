"""The load and reliability harness behind `interviewer bench`: the simulated candidate (candidate.py), its
speech (speech_sim.py), the session runner (runner.py, the entry; its parts: session.py, driver.py,
target.py, schedule.py, attribution.py, resources.py, summary.py, plots.py), its statistics (stats.py) and
the impaired network for candidates (netimpair.py)."""
