"""Scenario replays (issue 13): a seeded, days-long scenario of raw events of every supported
sourcetype, with labelled cases and setup-page edits (see README.md)."""
