"""What every package may use: settings, names, errors, clients, logs, retries."""
