"""The pure stages: functions over schemas models, no I/O."""
