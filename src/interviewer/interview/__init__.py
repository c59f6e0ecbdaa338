"""The interview domain: role plans, the Director, answer analysis, scoring and the report. No I/O here
except reading the YAML plans that ship inside the package."""
